// Tool calls in an answer, for display: the app passes no `tools`, so a model may still write a call's
// markup in its text, and a stored answer may carry OpenAI's `tool_calls`. Both show as a block
// (messages_view.mjs) with the function's name and its arguments pretty-printed; the text around a
// call stays where it was; markup that does not parse as a call stays text.
//
// The formats and what counts as a call are the engine's (src/tool_calls.c, the one place they are
// defined): Hermes/Qwen "<tool_call>{json}</tool_call>" anywhere (an unclosed one at the end counts),
// Mistral "[TOOL_CALLS][...]" and Phi-4-mini "functools[...]" anywhere, a Llama 3.x JSON call (or
// Mistral's list, its marker being a hidden control token) as the answer's start; a call is an object
// with a non-empty string "name" and "arguments" or "parameters" (an object, or a string holding
// one); a list with one bad call is text. This is a second reader of those formats, written here on
// purpose rather than exporting the engine's splitter through the wasm build:
// - the page may not compile WebAssembly (its CSP has no 'wasm-unsafe-eval', docs/app.md), so the
//   splitter could only run in a worker, and the app renders answers where no engine worker exists:
//   conversations shown before a model loads, and answers of this machine's server (server_backend.mjs);
// - a streaming answer is rendered up to every 50 ms, synchronously, while the engine's worker is
//   busy decoding; a round trip per frame would lag behind the tokens;
// - the engine's splitter needs the template's family (the server does not say it) and returns content
//   and calls apart, losing where in the text each call stood.
// The display reader changes nothing the engine does: it only decides how text looks.

const HERMES_OPEN = '<tool_call>', HERMES_CLOSE = '</tool_call>';
const MARKERS = [HERMES_OPEN, '[TOOL_CALLS]', 'functools'];
// src/json.h's JSON_MAX_DEPTH: deeper JSON is not a call (and could not be shown: JSON.stringify
// recurses).
const MAX_DEPTH = 128;

// The length of the JSON object or array t starts with at `from` (after whitespace), 0 while it is not
// complete (src/tool_calls.c's json_extent).
function jsonExtent(t, from) {
  let i = from;
  while (i < t.length && /\s/.test(t[i])) i++;
  if (t[i] !== '{' && t[i] !== '[') return 0;
  let depth = 0, inStr = false;
  for (; i < t.length; i++) {
    const c = t[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '{' || c === '[') { if (++depth > MAX_DEPTH) return 0; } else if ((c === '}' || c === ']') && --depth === 0) return i + 1 - from;
  }
  return 0;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// One call object as { name, arguments (an object) }, or null.
function callOf(o) {
  if (!isObject(o) || typeof o.name !== 'string' || !o.name || o.name.includes('\0')) return null;
  let args = 'arguments' in o ? o.arguments : o.parameters;
  if (typeof args === 'string') args = parseShallow(args);
  return isObject(args) ? { name: o.name, arguments: args } : null;
}

// JSON text no deeper than MAX_DEPTH, parsed; undefined where it is not.
function parseShallow(text) {
  if (!jsonExtent(text, 0)) return undefined;
  try { return JSON.parse(text); } catch { return undefined; }
}

// The calls in JSON text (one object, or a non-empty list of them), or null: all or nothing.
function callsOf(text) {
  const v = parseShallow(text);
  if (v === undefined) return null;
  const list = Array.isArray(v) ? v : [v];
  if (!list.length) return null;
  const calls = list.map(callOf);
  return calls.every(Boolean) ? calls : null;
}

// text as [{ text } | { call: { name, arguments } }], in order; null when it holds no call.
export function splitToolCalls(text) {
  if (typeof text !== 'string' || !text) return null;
  const out = [];
  let rest = text, found = false;
  const addText = (t) => { if (t) out.push({ text: t }); };
  const addCalls = (calls) => { for (const call of calls) out.push({ call }); found = true; };
  // A call as the whole answer's start (Llama 3.x; Mistral with its marker hidden).
  const lead = rest.length - rest.trimStart().length;
  if (rest[lead] === '{' || rest[lead] === '[') {
    const n = jsonExtent(rest, lead);
    const calls = n ? callsOf(rest.slice(lead, lead + n)) : null;
    if (calls) { addCalls(calls); rest = rest.slice(lead + n); }
  }
  for (;;) {
    let at = -1, mk = '';
    for (const m of MARKERS) {
      const i = rest.indexOf(m);
      if (i >= 0 && (at < 0 || i < at)) { at = i; mk = m; }
    }
    if (at < 0) break;
    const body = at + mk.length;
    let end, calls;
    if (mk === HERMES_OPEN) {
      const close = rest.indexOf(HERMES_CLOSE, body);
      end = close < 0 ? rest.length : close + HERMES_CLOSE.length;
      calls = callsOf(rest.slice(body, close < 0 ? rest.length : close));
    } else {
      const n = jsonExtent(rest, body);
      end = body + n;
      calls = n ? callsOf(rest.slice(body, end)) : null;
    }
    if (!calls) { // not a call: the marker is text; look on after it
      addText(rest.slice(0, body));
      rest = rest.slice(body);
      continue;
    }
    addText(rest.slice(0, at));
    addCalls(calls);
    rest = rest.slice(end);
  }
  addText(rest);
  if (!found) return null;
  // Neighbouring text pieces (from markers that were not calls) as one, so Markdown sees them whole.
  return out.reduce((acc, s) => {
    const prev = acc.at(-1);
    if (s.text !== undefined && prev?.text !== undefined) prev.text += s.text; else acc.push(s);
    return acc;
  }, []);
}

// OpenAI's tool_calls ([{ function: { name, arguments: "<JSON text>" } }]) as { name, arguments }:
// arguments that do not parse are shown as the text they are.
export function openAiCalls(list) {
  if (!Array.isArray(list)) return [];
  return list.filter((c) => typeof c?.function?.name === 'string').map((c) => {
    let args = c.function.arguments;
    if (typeof args === 'string') args = parseShallow(args) ?? args; // not JSON (or too deep): shown as text
    return { name: c.function.name, arguments: isObject(args) || typeof args === 'string' ? args : JSON.stringify(args ?? {}) };
  });
}

// Arguments as indented JSON (a string that did not parse: as it is).
export function prettyArguments(args) {
  if (typeof args === 'string') return args;
  try { return JSON.stringify(args, null, 2); } catch { return '(arguments nested too deeply to show)'; }
}
