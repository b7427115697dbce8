// Golden outputs of the 93 real chat templates in ../shared/templates/templates.json,
// rendered by @huggingface/jinja (pinned in tools/reference/package.json) the way
// Hugging Face's apply_chat_template does (trim_blocks, lstrip_blocks), for a few
// conversations with add_generation_prompt false and true; and, for the templates of
// reasoning models and today's small ones (THINK_MODELS), conversations with
// earlier reasoning (as reasoning_content, inline <think>, within a tool call) with
// enable_thinking left out, true and false (the chat_template_kwargs of a request).
// Writes tests/fixtures/templates/expected.json: {"outputs": [distinct outputs],
// "cases": {"INDEX:CONV:AGP" or "INDEX:CONV:AGP:KWARGS": index into outputs |
// {"raise": "raise_exception's message"} | {"error": "other error"}}}.
// strftime_now is pinned to 2024-07-26 (hearth's tests pass the same date).
// Run: node tools/golden_templates.mjs (needs npm ci in tools/reference, or /tmp/ref).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATES = path.resolve(ROOT, '../shared/templates/templates.json');
export const FIXTURE = path.join(ROOT, 'tests/fixtures/templates/expected.json');
export const DATE = '2024-07-26';

const SYS = { role: 'system', content: 'You are a helpful assistant.' };
const U1 = { role: 'user', content: 'Hello, who are you?' };
const A1 = { role: 'assistant', content: '  I am an assistant.\nHow can I help? ' };
const U2 = { role: 'user', content: 'What is 2+2? Ünïcödé ✓ "quotes" \\ done' };
const TOOLS = [{
  type: 'function',
  function: {
    name: 'get_weather', description: 'Get the current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name, e.g. Paris' } }, required: ['city'] },
  },
}];
const U3 = { role: 'user', content: 'What is the weather in Paris?' };
const CALL = {
  role: 'assistant', content: null,
  tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
};
const RESULT = { role: 'tool', name: 'get_weather', tool_call_id: 'call_1', content: '{"temp_c": 21}' };
// A conversation is a message list, or {messages, tools}; hearth reads the same JSON.
export const CONVERSATIONS = {
  user: [U1],
  system: [SYS, U1],
  multi: [U1, A1, U2],
  system_multi: [SYS, U1, A1, U2],
  tools: { messages: [U3], tools: TOOLS },
  tool_calls: { messages: [SYS, U3, CALL, RESULT], tools: TOOLS },
  tool_calls_text: { messages: [U3, { ...CALL, content: '' }, RESULT, { role: 'assistant', content: 'It is 21 °C.' }], tools: TOOLS },
  // whitespace, an earlier turn with reasoning, roles out of order, empty content
  whitespace: [{ role: 'system', content: '\n  sys  \n' }, { role: 'user', content: '\t multi\nline \n\n' },
    { role: 'assistant', content: '<think>\nhmm\n</think>\n\nanswer' }, U2],
  two_users: [U1, U2],
  empty: [{ role: 'user', content: '' }],
  // eight turns; content with braces, Jinja-looking text, quotes, emoji, CJK, RTL, newlines
  long: [SYS, ...Array.from({ length: 8 }, (_, i) => [
    { role: 'user', content: `Turn ${i + 1}: {{ messages }} {% if x %}y{% endif %} {# c #} 'single' "double" {braces}` },
    { role: 'assistant', content: `Answer ${i + 1} 👩‍💻🇫🇷 日本語 עברית\n\tline two {}` },
  ]).flat().slice(0, 15)],
};

// Reasoning models' templates and today's small models' (issue 16), by their model name.
export const THINK_MODELS = ['Qwen/Qwen3-1.7B', 'Qwen/Qwen3-8B-Base', 'google/gemma-3-1b-it', 'microsoft/Phi-4-mini-instruct',
  'deepseek-ai/DeepSeek-R1', 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B', 'microsoft/Phi-4-reasoning',
  '../shared/tokenizers/qwen3', '../shared/tokenizers/gemma3'];
const REASONED = { role: 'assistant', content: 'I am an assistant.', reasoning_content: 'The user asks who I am.\nI should say so.' };
export const THINK_CONVERSATIONS = {
  think_user: [U1],
  // an earlier answer with its reasoning kept apart (as the app and the API send it back)
  think_history: [SYS, U1, REASONED, U2],
  // the same reasoning inline in the text, as a raw answer holds it
  think_inline: [U1, { role: 'assistant', content: '<think>\nThe user asks who I am.\n</think>\n\nI am an assistant.' }, U2],
  // reasoning within a tool-calling turn (after the last user message: Qwen3 keeps it there)
  think_tools: { messages: [U3, { ...CALL, content: '', reasoning_content: 'I need the weather tool.' }, RESULT], tools: TOOLS },
  think_tools_answer: {
    messages: [U3, { ...CALL, content: '', reasoning_content: 'I need the weather tool.' }, RESULT,
      { role: 'assistant', content: 'It is 21 °C.', reasoning_content: 'The tool says 21.' }],
    tools: TOOLS,
  },
};
// chat_template_kwargs per case: none, enable_thinking true, false.
export const THINK_KWARGS = { none: null, on: { enable_thinking: true }, off: { enable_thinking: false } };

// Every case: [key, conversation, add_generation_prompt, kwargs] for template i of list.
export function casesOf(i, template) {
  const out = [];
  for (const [name, conv] of Object.entries(CONVERSATIONS)) for (const agp of [0, 1]) out.push([`${i}:${name}:${agp}`, conv, agp, null]);
  if (THINK_MODELS.includes(template.model)) {
    for (const [name, conv] of Object.entries(THINK_CONVERSATIONS)) {
      for (const agp of [0, 1]) for (const [k, kw] of Object.entries(THINK_KWARGS)) out.push([`${i}:${name}:${agp}:${k}`, conv, agp, kw]);
    }
  }
  return out;
}

// The templates compared: ../shared/templates (93 real ones) and the chat
// templates of ../shared/tokenizers (appended, so earlier indices keep their keys).
export function loadTemplates() {
  const list = JSON.parse(fs.readFileSync(TEMPLATES, 'utf8'));
  const text = (t) => (t && typeof t === 'object' ? t.content : t) ?? '';
  for (const name of ['llama3', 'qwen3', 'gemma3']) {
    const cfg = path.resolve(ROOT, `../shared/tokenizers/${name}/tokenizer_config.json`);
    if (!fs.existsSync(cfg)) continue;
    const c = JSON.parse(fs.readFileSync(cfg, 'utf8'));
    if (typeof c.chat_template === 'string')
      list.push({ model: `../shared/tokenizers/${name}`, chat_template: c.chat_template,
        bos_token: text(c.bos_token), eos_token: text(c.eos_token) });
  }
  return list;
}

async function loadJinja() {
  for (const dir of [path.join(ROOT, 'tools/reference'), '/tmp/ref']) {
    const p = path.join(dir, 'node_modules/@huggingface/jinja/dist/index.js');
    if (fs.existsSync(p)) return import(pathToFileURL(p).href);
  }
  throw new Error('@huggingface/jinja not found: run npm ci --ignore-scripts in tools/reference');
}

// @huggingface/jinja's strftime_now reads new Date(): pin it to noon local time on DATE.
function pinDate() {
  const Real = Date;
  const [y, m, d] = DATE.split('-').map(Number);
  globalThis.Date = class extends Real {
    constructor(...a) {
      if (a.length) super(...a);
      else super(y, m - 1, d, 12, 0, 0);
    }
  };
}

async function main() {
  const { Template, Environment } = await loadJinja();
  // Tell raise_exception() apart from other errors: hearth must raise with the
  // same message; for other errors only failing is required.
  const set = Environment.prototype.set;
  Environment.prototype.set = function (name, value) {
    if (name === 'raise_exception') {
      value = (msg) => {
        const e = new Error(msg);
        e.raised = true;
        throw e;
      };
    }
    return set.call(this, name, value);
  };
  pinDate();
  const templates = loadTemplates();
  const out = {};
  let errors = 0;
  templates.forEach((t, i) => {
    for (const [key, conv, agp, kwargs] of casesOf(i, t)) {
      const { messages, tools } = Array.isArray(conv) ? { messages: conv } : conv;
      try {
        const tpl = new Template(t.chat_template);
        const ctx = {
          ...structuredClone(kwargs ?? {}), messages: structuredClone(messages), add_generation_prompt: !!agp,
          bos_token: t.bos_token ?? '', eos_token: t.eos_token ?? '',
        };
        if (tools) ctx.tools = structuredClone(tools);
        out[key] = tpl.render(ctx);
      } catch (e) {
        out[key] = e.raised ? { raise: String(e.message) } : { error: String(e.message).split('\n')[0] };
        errors++;
      }
    }
  });
  fs.mkdirSync(path.dirname(FIXTURE), { recursive: true });
  // distinct outputs once (many templates render alike), cases point at them
  const outputs = [], index = new Map();
  const cases = Object.entries(out).map(([k, v]) => {
    if (typeof v === 'string') {
      if (!index.has(v)) index.set(v, outputs.push(v) - 1);
      v = index.get(v);
    }
    return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  });
  fs.writeFileSync(FIXTURE, `{"generator":"tools/golden_templates.mjs, @huggingface/jinja 0.5.11","outputs":[\n` +
    `${outputs.map((o) => JSON.stringify(o)).join(',\n')}\n],"cases":{\n${cases.join(',\n')}\n}}\n`);
  console.log(`${Object.keys(out).length} renders of ${templates.length} templates, ${errors} errors -> ${FIXTURE}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
