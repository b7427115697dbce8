// Tool calls and response_format through the client API (web/client.mjs, the
// worker, the wasm core) on a random-weight model with Qwen3's chat template
// (Hermes-style <tool_call> blocks): tool_choice "required" and a named
// function give calls whose arguments validate (ajv) against the function's
// parameters, streamed delta.tool_calls reassemble to the same calls as the
// whole answer's message.tool_calls, a tool result goes back through the
// template, json_object answers parse, and unsupported schema keywords are
// refused by name. The parsing of each family's real outputs is in
// tests/unit/test_tool_calls.c.
import Ajv2020 from 'ajv/dist/2020.js';
import { check, done } from '../lib.mjs';
import { testModel } from './util.mjs';
import { createEngine } from '../../web/client.mjs';

const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');
const ajv = new Ajv2020({ strict: false });
const weather = { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, days: { type: 'integer' }, units: { enum: ['c', 'f'] } }, required: ['city'] };
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: weather } },
  { type: 'function', function: { name: 'add', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } } },
  // its $ref points into its own parameters, not into the schema of a call to any tool
  { type: 'function', function: { name: 'book', parameters: { $defs: { day: { type: 'string', maxLength: 10 } }, type: 'object', properties: { when: { $ref: '#/$defs/day' }, seats: { type: 'integer' } }, required: ['when'] } } },
];
const paramsOf = Object.fromEntries(tools.map((t) => [t.function.name, t.function.parameters]));
const messages = [{ role: 'user', content: 'What is the weather in Oslo?' }];

const engine = await createEngine({ model, backend: 'cpu', threads: 1, contextSize: 2048 });
try {
  const named = (name) => ({ type: 'function', function: { name } });
  for (const [label, toolChoice] of [['required', 'required'], ['named', named('add')], ['named $ref', named('book')]]) {
    for (const seed of [1, 2]) {
      const req = { messages, tools, tool_choice: toolChoice, temperature: 1, seed, max_tokens: 300 };
      const r = await engine.chat.completions.create(req);
      const msg = r.choices[0].message, calls = msg.tool_calls ?? [];
      const call = calls[0];
      let args = null;
      try { args = JSON.parse(call?.function.arguments); } catch { /* judged below */ }
      const validate = call && paramsOf[call.function.name] && ajv.compile(paramsOf[call.function.name]);
      check(`tool_choice ${label} seed ${seed}: one call, finish_reason tool_calls`, calls.length === 1 && r.choices[0].finish_reason === 'tool_calls',
        JSON.stringify(r.choices[0]));
      check(`tool_choice ${label} seed ${seed}: arguments valid for the function's parameters`, !!validate && validate(args),
        `${JSON.stringify(call)} ${validate ? ajv.errorsText(validate.errors) : 'unknown function'}`);
      if (toolChoice.function) check(`tool_choice ${label} seed ${seed}: calls the named function`, call?.function.name === toolChoice.function.name, JSON.stringify(call));
      // the same request streamed: the deltas' calls reassemble to the same calls
      const streamed = [];
      let finish = null;
      for await (const chunk of await engine.chat.completions.create({ ...req, stream: true })) {
        for (const c of chunk.choices[0].delta.tool_calls ?? []) streamed[c.index] = { id: c.id, type: c.type, function: c.function };
        finish = chunk.choices[0].finish_reason ?? finish;
      }
      // (ids count on through the session: each answer's calls get new ones, 9 characters as Mistral's templates demand)
      const bare = (list) => JSON.stringify(list.map(({ id, ...rest }) => rest));
      check(`tool_choice ${label} seed ${seed}: streamed delta.tool_calls reassemble to message.tool_calls`,
        bare(streamed) === bare(calls) && finish === 'tool_calls' && streamed.every((c) => /^[a-z0-9]{9}$/.test(c.id)),
        `${JSON.stringify(streamed)} vs ${JSON.stringify(calls)}, ${finish}`);
    }
  }
  // the call and its result go back through the template; the next answer runs
  const first = await engine.chat.completions.create({ messages, tools, tool_choice: 'required', temperature: 1, seed: 3, max_tokens: 300 });
  const call = first.choices[0].message.tool_calls?.[0];
  const followUp = [...messages, first.choices[0].message,
    { role: 'tool', tool_call_id: call?.id, name: call?.function.name, content: '{"temperature": 21}' }];
  let after = null, error = '';
  try { after = await engine.chat.completions.create({ messages: followUp, tools, temperature: 0, max_tokens: 8 }); } catch (e) { error = e.message; }
  check('a tool result (role tool) goes back through the template', after?.usage.prompt_tokens > first.usage.prompt_tokens, error);
  // tool_choice none: the template sees no tools, nothing is parsed
  const none = await engine.chat.completions.create({ messages, tools, tool_choice: 'none', temperature: 0, max_tokens: 8 });
  check('tool_choice none: no calls, the prompt has no tools', !none.choices[0].message.tool_calls && none.usage.prompt_tokens < first.usage.prompt_tokens,
    JSON.stringify(none.usage));
  // response_format json_object
  for (const seed of [1, 2]) {
    const r = await engine.chat.completions.create({ messages, response_format: { type: 'json_object' }, temperature: 1, seed, max_tokens: 400 });
    let v;
    try { v = JSON.parse(r.choices[0].message.content); } catch { /* judged below */ }
    const cut = r.hearth.stop === 'length'; // any object may stay open on a random model
    check(`response_format json_object seed ${seed}: an object`, cut || (v && typeof v === 'object' && !Array.isArray(v)), r.choices[0].message.content.slice(0, 200));
  }
  // refused keywords name themselves
  for (const [kw, schema] of [['pattern', { type: 'string', pattern: '^a' }], ['oneOf', { oneOf: [{ type: 'string' }] }], ['minimum', { type: 'integer', minimum: 3 }]]) {
    let msg = '';
    try { await engine.chat.completions.create({ messages, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } }, max_tokens: 4 }); } catch (e) { msg = e.message; }
    check(`json_schema with "${kw}" is refused by name`, msg.includes(`"${kw}" is not supported`), msg);
  }
} finally { await engine.unload(); }

// A template whose calls hearth can't read (Llama 2's has no tools): tools are refused, not ignored.
{
  const llama2 = testModel(['--arch', 'llama', '--type', 'q8_0', '--tokenizer', 'llama2'], 'chat-llama-llama2-q8_0');
  const e2 = await createEngine({ model: llama2, backend: 'cpu', threads: 1, contextSize: 512 });
  try {
    let msg = '';
    try { await e2.chat.completions.create({ messages, tools, max_tokens: 4 }); } catch (e) { msg = e.message; }
    check('tools with a template of no known call format: refused, saying so', msg.includes('no format hearth knows'), msg);
    const r = await e2.chat.completions.create({ messages, tools, tool_choice: 'none', max_tokens: 4, temperature: 0 });
    check('the same with tool_choice none: answered', typeof r.choices[0].message.content === 'string', JSON.stringify(r.choices[0]));
  } finally { await e2.unload(); }
}
done();
