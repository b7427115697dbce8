// Chat templates: every template of ../shared/templates/templates.json
// (93 real ones) and of ../shared/tokenizers (llama3, qwen3, gemma3) rendered by `hearth template` for the conversations of
// tools/golden_templates.mjs (and, for reasoning models' templates, earlier
// reasoning and enable_thinking through --chat-template-kwargs), compared byte for byte with
// @huggingface/jinja's outputs stored in tests/fixtures/templates/expected.json.
// A template that raises there must raise in hearth too (exit 1; the same
// message for raise_exception, any template error otherwise). Also checks the CLI's errors and limits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { check, done } from '../lib.mjs';
import { HEARTH, ROOT, testModel } from './util.mjs';
import { CONVERSATIONS, DATE, FIXTURE, TEMPLATES, THINK_CONVERSATIONS, casesOf, loadTemplates } from '../../tools/golden_templates.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-tpl-'));
const run = (args) => spawnSync(HEARTH, ['template', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
const write = (name, text) => {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
};

const convFiles = Object.fromEntries(Object.entries({ ...CONVERSATIONS, ...THINK_CONVERSATIONS })
  .map(([name, msgs]) => [name, write(`${name}.json`, JSON.stringify(msgs))]));

if (!fs.existsSync(TEMPLATES)) {
  console.log(`# ${TEMPLATES} missing: the real-template comparison is skipped`);
} else {
  const templates = loadTemplates();
  const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
  const expected = Object.fromEntries(Object.entries(fixture.cases)
    .map(([k, v]) => [k, typeof v === 'number' ? fixture.outputs[v] : v]));
  let total = 0, passed = 0, errors = 0, thinking = 0;
  templates.forEach((t, i) => {
    const tf = write(`t${i}.jinja`, t.chat_template);
    const bad = [];
    for (const [key, , agp, kwargs] of casesOf(i, t)) {
      {
        const name = key.split(':')[1];
        const want = expected[key];
        if (want === undefined) continue;
        total++;
        const args = ['--template-file', tf, '--messages', convFiles[name], '--date', DATE,
          '--bos-token', t.bos_token ?? '', '--eos-token', t.eos_token ?? ''];
        if (agp) args.push('--add-generation-prompt');
        if (kwargs) args.push('--chat-template-kwargs', JSON.stringify(kwargs));
        if (name.startsWith('think_')) thinking++;
        const r = run(args);
        if (typeof want !== 'string') errors++;
        let ok;
        if (typeof want === 'string') {
          ok = r.status === 0 && r.stdout === want;
          if (!ok) bad.push(`${key}: ${r.status !== 0 ? r.stderr.trim() : `got ${JSON.stringify(r.stdout.slice(0, 300))}\n      want ${JSON.stringify(want.slice(0, 300))}`}`);
        } else if (want.raise !== undefined) {
          ok = r.status === 1 && r.stderr.includes(`raise_exception: ${want.raise}`);
          if (!ok) bad.push(`${key}: expected raise_exception(${JSON.stringify(want.raise)}), got exit ${r.status} ${r.stderr.trim()}`);
        } else {
          // another error (e.g. a filter applied to a null content): hearth must fail too
          ok = r.status === 1 && r.stderr.includes('template:');
          if (!ok) bad.push(`${key}: expected an error like ${JSON.stringify(want.error)}, got exit ${r.status} ${r.stderr.trim()}`);
        }
        if (ok) passed++;
      }
    }
    check(`template ${i} (${t.model}) renders like @huggingface/jinja`, bad.length === 0, bad.slice(0, 2).join('\n    '));
  });
  console.log(`# real templates: ${passed}/${total} renders match (${templates.length} templates, ${thinking} of the renders ` +
    `with reasoning and enable_thinking; ${errors} expected errors)`);
}

// ---- CLI behaviour ----
const msgs = convFiles.system;
{
  const tf = write('bad.jinja', 'line one\n{% for x in messages %}\n{{ x.content | nosuchfilter }}{% endfor %}');
  const r = run(['--template-file', tf, '--messages', msgs]);
  check('an unknown filter is an error with line:column', r.status === 1 && /template:3:\d+: .*nosuchfilter/.test(r.stderr), r.stderr);
}
{
  const tf = write('syntax.jinja', 'ok\n  {% if %}');
  const r = run(['--template-file', tf, '--messages', msgs]);
  check('a syntax error names line 2', r.status === 1 && r.stderr.includes('template:2:'), r.stderr);
}
{
  const tf = write('loop.jinja', '{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}');
  const r = run(['--template-file', tf, '--messages', msgs]);
  check('a runaway loop hits the iteration limit', r.status === 1 && r.stderr.includes('iteration'), r.stderr);
}
{
  const tf = write('recurse.jinja', '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}');
  const r = run(['--template-file', tf, '--messages', msgs]);
  check('unbounded macro recursion is an error, not a crash', r.status === 1 && r.stderr.includes('deeper'), r.stderr);
}
{
  const tf = write('kwargs.jinja', '{{ enable_thinking }}|{{ n.k[1] }}|{{ messages | length }}');
  const r = run(['--template-file', tf, '--messages', msgs, '--chat-template-kwargs', '{"enable_thinking": false, "n": {"k": [1, "two"]}}']);
  check('--chat-template-kwargs sets template variables', r.status === 0 && r.stdout === 'false|two|2', JSON.stringify(r.stdout) + r.stderr);
  const bad = run(['--template-file', tf, '--messages', msgs, '--chat-template-kwargs', '[1]']);
  check('--chat-template-kwargs must be a JSON object (usage error)', bad.status === 2 && bad.stderr.includes('JSON object'), bad.stderr);
  const taken = run(['--template-file', tf, '--messages', msgs, '--chat-template-kwargs', '{"messages": []}']);
  check('--chat-template-kwargs cannot replace messages', taken.status === 1 && taken.stderr.includes('"messages" is set by hearth'), taken.stderr);
}
{
  const tf = write('raise.jinja', "{{ raise_exception('no system role') }}");
  const r = run(['--template-file', tf, '--messages', msgs]);
  check('raise_exception is an error with its message', r.status === 1 && r.stderr.includes('raise_exception: no system role'), r.stderr);
}
{
  const tf = write('ok.jinja', '{{ messages | length }}');
  const bad = write('bad.json', '[{"role": "user", "content": "hi"},]');
  const r = run(['--template-file', tf, '--messages', bad]);
  check('invalid messages JSON is a usage error with line:column', r.status === 2 && r.stderr.includes('json:1:'), r.stderr);
  const r2 = run(['--template-file', tf]);
  check('--messages is required', r2.status === 2, r2.stderr);
  const r3 = run(['--template-file', tf, '--messages', msgs, '--model', 'x.gguf']);
  check('--model and --template-file exclude each other', r3.status === 2, r3.stderr);
}
{
  const tf = write('tools.jinja', '{{ tools | tojson(indent=2) }}|{{ strftime_now("%d %b %Y") }}|{{ bos_token }}');
  const tools = write('tools.json', '[{"name": "f", "parameters": {"x": 1.5, "é": [true, null]}}]');
  const r = run(['--template-file', tf, '--messages', msgs, '--tools', tools, '--date', '2025-01-09', '--bos-token', '<s>']);
  const want = '[\n  {\n    "name": "f",\n    "parameters": {\n      "x": 1.5,\n      "é": [\n        true,\n        null\n      ]\n    }\n  }\n]|09 Jan 2025|<s>';
  check('tools, tojson(indent), strftime_now and bos_token', r.status === 0 && r.stdout === want, JSON.stringify(r.stdout) + r.stderr);
}
{
  // --model: the template and BOS/EOS texts come from a vocabulary-only GGUF
  // (tools/make_test_model.mjs copies tokenizer_config.json's chat_template).
  const cfg = path.resolve(ROOT, '../shared/tokenizers/llama3/tokenizer_config.json');
  if (fs.existsSync(cfg)) {
    const model = testModel(['--tokenizer', 'llama3', '--vocab-only'], 'llama3-vocab');
    const tf = write('llama3.jinja', JSON.parse(fs.readFileSync(cfg, 'utf8')).chat_template);
    const common = ['--messages', convFiles.system_multi, '--add-generation-prompt', '--date', DATE];
    const a = run(['--model', model, ...common]);
    const b = run(['--template-file', tf, '--bos-token', '<|begin_of_text|>', '--eos-token', '<|end_of_text|>', ...common]);
    check('--model reads tokenizer.chat_template and the BOS/EOS texts from the GGUF',
      a.status === 0 && b.status === 0 && a.stdout === b.stdout && a.stdout.startsWith('<|begin_of_text|><|start_header_id|>system'),
      `${a.stderr}${b.stderr}${JSON.stringify(a.stdout.slice(0, 200))}`);
    const c = run(['--model', model, '--bos-token', '[B]', ...common]);
    check('--bos-token overrides the model\'s', c.status === 0 && c.stdout.startsWith('[B]<|start_header_id|>'), c.stderr);
  }
  const stories = path.resolve(ROOT, '../shared/models/stories260K.gguf');
  if (fs.existsSync(stories)) {
    const r = run(['--model', stories, '--messages', msgs]);
    check('a model without a chat template is a clear error', r.status === 1 && r.stderr.includes('no tokenizer.chat_template'), r.stderr);
  }
}

// No control token from request bytes (issue 17, item 6): tests/fuzz/fuzz_control.c over every template
// x the five real vocabularies x hostile conversations full of each vocabulary's special-token texts
// (content, reasoning_content, tool calls and results, tool descriptions, names, roles), rendered with
// their provenance and tokenized as chat does; and the same conversations with plain words tokenize
// exactly as without any protection (the template's markup is never taken for request text).
if (fs.existsSync(TEMPLATES)) {
  const driver = path.join(ROOT, 'build', 'control_check');
  const src = (d) => fs.readdirSync(path.join(ROOT, 'src', d)).filter((f) => f.endsWith('.c')).map((f) => path.join(ROOT, 'src', d, f));
  const sources = [path.join(ROOT, 'tests/fuzz/fuzz_control.c'), ...['json.c', 'error.c', 'model/gguf.c', 'model/ggml_types.c']
    .map((f) => path.join(ROOT, 'src', f)), ...src('jinja'), ...src('tokenizer')];
  const headers = ['', 'jinja', 'model', 'tokenizer'].flatMap((d) => fs.readdirSync(path.join(ROOT, 'src', d))
    .filter((f) => f.endsWith('.h')).map((f) => path.join(ROOT, 'src', d, f)));
  const mtime = (f) => fs.statSync(f).mtimeMs;
  let built = true;
  if (!fs.existsSync(driver) || [...sources, ...headers].some((f) => mtime(f) > mtime(driver))) {
    const r = spawnSync(process.env.CC || 'cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Wno-unused-parameter',
      `-I${path.join(ROOT, 'src')}`, ...sources, '-o', driver, '-lm'], { encoding: 'utf8' });
    built = r.status === 0 && !r.stderr.includes('warning');
    check('tests/fuzz/fuzz_control.c builds without warnings', built, r.stderr);
  }
  if (built) {
    const { ensureModel } = await import('../../tools/golden_tokenize.mjs');
    const vocabs = ['llama2', 'llama3', 'qwen3', 'gemma3', 'gpt4o'].map((n) => ensureModel(n));
    const t0 = Date.now();
    const r = spawnSync(driver, [TEMPLATES, '4', ...vocabs], { encoding: 'utf8', maxBuffer: 1 << 26 });
    for (const line of r.stdout.trim().split('\n')) console.log(`# ${line}`);
    check(`no control token from request bytes, and none of the template's markup taken for request text (${Date.now() - t0} ms)`,
      r.status === 0, `${r.stderr.slice(0, 4000)}`);
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
done();
