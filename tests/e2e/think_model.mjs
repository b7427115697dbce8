// Test models whose chat templates are those of reasoning models, for the
// tests of reasoning_content: the tiny random-weight qwen2 model with the
// Qwen3 tokenizer (its own template is Qwen3's), and the same weights with a
// real template from ../shared/templates put in its place, e.g. DeepSeek-R1's,
// whose generation prompt opens "<think>\n" so that every answer starts in
// the reasoning. Models are made once into build/models.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildModel, parseArgs } from '../../tools/make_test_model.mjs';
import { MODELS, SHARED, testModel } from './util.mjs';

export const QWEN_ARGS = ['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'];

// The tiny qwen2/Qwen3-tokenizer model (the chat tests' own).
export const qwenModel = () => testModel(QWEN_ARGS, 'chat-qwen2-qwen3-q8_0');

// The chat template of a model in ../shared/templates/templates.json, or null where that file is missing.
export function realTemplate(model) {
  const f = path.join(SHARED, 'templates/templates.json');
  if (!fs.existsSync(f)) return null;
  const t = JSON.parse(fs.readFileSync(f, 'utf8')).find((x) => x.model === model);
  if (!t) throw new Error(`${model} is not in ${f}`);
  return t.chat_template;
}

// The tiny model with tokenizer.chat_template replaced by template (a string).
export function modelWithTemplate(template, name) {
  fs.mkdirSync(MODELS, { recursive: true });
  const key = crypto.createHash('sha1').update(QWEN_ARGS.join(' ')).update(template).digest('hex').slice(0, 10);
  const out = path.join(MODELS, `${name}-${key}.gguf`);
  if (fs.existsSync(out)) return out;
  const { w } = buildModel(parseArgs([...QWEN_ARGS, '--out', out]));
  const kv = w.kv.find((e) => e[0] === 'tokenizer.chat_template');
  kv[2] = template;
  const tmp = `${out}.tmp-${process.pid}.gguf`;
  w.write(tmp);
  fs.renameSync(tmp, out);
  return out;
}

// The tiny model with DeepSeek-R1's template (the prompt opens the think block); null without ../shared/templates.
export function deepseekModel() {
  const t = realTemplate('deepseek-ai/DeepSeek-R1');
  return t && modelWithTemplate(t, 'think-qwen2-deepseek-r1-q8_0');
}
