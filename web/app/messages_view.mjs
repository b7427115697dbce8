// The message list: one element per message (data-testid="message",
// data-role), assistant text rendered as sanitized Markdown, user text as
// plain text. A reasoning model's thinking (the answer's reasoning_content)
// sits above its answer in a collapsed <details data-testid="reasoning">,
// "Thinking…" while it streams, then "Thought for N s"; it is rendered by
// the same sanitizer. A tool call in an answer (its markup in the text, or
// OpenAI's tool_calls: tool_calls.mjs) shows as a block with the function's
// name and its arguments, built from text nodes only (the model's JSON is
// never markup). A streaming answer re-renders at most once every PAINT_MS
// (in an animation frame), its token counter with it, so the main thread never works long while
// tokens arrive and takes little from the cores the engine decodes on.
import { renderMarkdown, codeBox } from './markdown.mjs';
import { splitToolCalls, openAiCalls, prettyArguments } from './tool_calls.mjs';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function button(label, onClick, { cls = '', testid = '', aria = '' } = {}) {
  const b = el('button', cls, label);
  b.type = 'button';
  if (testid) b.dataset.testid = testid;
  if (aria) b.setAttribute('aria-label', aria);
  b.addEventListener('click', onClick);
  return b;
}

export function statsText(s) {
  if (!s) return '';
  const parts = [];
  if (Number.isFinite(s.tokens)) parts.push(`${s.tokens} tokens`);
  if (Number.isFinite(s.tps)) parts.push(`${s.tps.toFixed(1)} tokens/s`);
  if (Number.isFinite(s.ttft)) parts.push(`first token ${Math.round(s.ttft)} ms`);
  if (s.stopped) parts.push('stopped');
  else if (s.finish === 'length') parts.push('hit max tokens');
  return parts.join(' · ');
}

// "Thought for 3.2 s" (ms unknown: "Thoughts").
export function thoughtLabel(ms) {
  if (!Number.isFinite(ms)) return 'Thoughts';
  const s = ms / 1000;
  return `Thought for ${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
}

// A tool call { name, arguments } as a code box: "Tool call NAME" over its arguments as indented JSON.
function toolCallBlock(call) {
  const pre = el('pre');
  pre.append(el('code', 'language-json', prettyArguments(call.arguments)));
  const box = codeBox(pre, [el('span', '', 'Tool call '), el('code', 'tool-name', call.name)], `Copy the arguments of ${call.name}`);
  box.classList.add('tool-call');
  box.dataset.testid = 'tool-call';
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', `Tool call ${call.name}`);
  return box;
}

// An answer's text (Markdown, tool-call markup as blocks where it stands) and its OpenAI tool_calls.
function renderAnswer(text, toolCalls) {
  const frag = document.createDocumentFragment();
  for (const part of splitToolCalls(text) ?? [{ text }]) frag.append(part.call ? toolCallBlock(part.call) : renderMarkdown(part.text));
  for (const call of openAiCalls(toolCalls)) frag.append(toolCallBlock(call));
  return frag;
}

// The collapsed reasoning block: { element, body, summary }.
function reasoningBlock(label) {
  const details = el('details', 'reasoning');
  details.dataset.testid = 'reasoning';
  const summary = el('summary', '', label);
  const body = el('div', 'reasoning-body');
  details.append(summary, body);
  return { element: details, body, summary };
}

// Renders a finished message; actions: { regenerate, edit } for the last turn; unsaved: shown but
// not in the browser's storage (it refused the write).
export function messageElement(msg, actions = {}, { unsaved = false } = {}) {
  const box = el('div', 'msg');
  box.dataset.testid = 'message';
  box.dataset.role = msg.role;
  box.setAttribute('role', 'article');
  box.setAttribute('aria-label', msg.role === 'user' ? 'You said' : 'Assistant said');
  const bubble = el('div', 'bubble');
  if (msg.role === 'assistant') {
    if (msg.reasoning) {
      const r = reasoningBlock(thoughtLabel(msg.thoughtMs));
      r.body.append(renderMarkdown(msg.reasoning));
      bubble.append(r.element);
    }
    bubble.append(renderAnswer(msg.content, msg.tool_calls));
  } else {
    bubble.textContent = msg.content;
  }
  const meta = el('div', 'meta');
  if (msg.role === 'assistant') meta.append(el('span', 'stats', statsText(msg.stats)));
  if (msg.error) meta.append(el('span', 'err', msg.error));
  if (unsaved) meta.append(el('span', 'err', 'Not saved'));
  if (actions.regenerate) meta.append(button('Regenerate', actions.regenerate, { testid: 'regenerate' }));
  if (actions.edit) meta.append(button('Edit', actions.edit, { testid: 'edit' }));
  box.append(bubble, meta);
  return box;
}

// Each render of a streaming answer lays out and paints it again on the main thread, which shares the
// machine's cores with the engine's threads: after the answer's first EAGER_MS (rendered every
// frame, so that a short answer visibly streams), at most one every PAINT_MS and never more than
// 1/PAINT_SHARE of the time (a long answer's render costs more). On this 2-core VM, per-token
// renders cost 2.6 ms of main-thread CPU a token and the app's rate fell to 0.77 of the engine
// alone's; throttled, 0.9 ms and 0.88 (docs/benchmarks.md).
const EAGER_MS = 250, PAINT_MS = 50, PAINT_SHARE = 25;

// A streaming assistant message: update(text, live, toolCalls) and reason(reasoning, live) schedule a
// render (live: the token counter's text), finish() settles it; thoughtMs() is how long the reasoning
// streamed (NaN: there was none). around(render): runs each render (the list's scrolling goes around it).
export function streamingMessage({ around = (render) => render() } = {}) {
  const box = el('div', 'msg');
  box.dataset.testid = 'message';
  box.dataset.role = 'assistant';
  box.setAttribute('role', 'article');
  box.setAttribute('aria-label', 'Assistant is answering');
  box.setAttribute('aria-busy', 'true');
  const bubble = el('div', 'bubble');
  const meta = el('div', 'meta');
  const stats = el('span', 'stats', 'thinking…');
  meta.append(stats);
  const answer = el('div', 'answer');
  bubble.append(answer);
  box.append(bubble, meta);
  let text = '', calls = null, reasoning = '', block = null, tStart = NaN, tEnd = NaN, counter = '';
  let frame = 0, timer = 0, painted = -Infinity, gap = PAINT_MS, first = NaN;
  const endThinking = () => {
    if (!block || Number.isFinite(tEnd)) return;
    tEnd = performance.now();
    block.summary.textContent = thoughtLabel(tEnd - tStart);
  };
  const paint = () => {
    frame = 0;
    painted = performance.now();
    around(() => {
      if (counter) stats.textContent = counter;
      if (block) block.body.replaceChildren(renderMarkdown(reasoning));
      answer.replaceChildren(renderAnswer(text, calls));
    });
    gap = Math.max(PAINT_MS, PAINT_SHARE * (performance.now() - painted));
  };
  const schedule = (live) => {
    if (live) counter = live;
    if (frame || timer) return;
    const now = performance.now();
    if (Number.isNaN(first)) first = now;
    const wait = now - first < EAGER_MS ? 0 : painted + gap - now;
    if (wait <= 0) frame = requestAnimationFrame(paint);
    else timer = setTimeout(() => { timer = 0; frame = requestAnimationFrame(paint); }, wait);
  };
  return {
    element: box,
    update(t, live, toolCalls = null) {
      text = t;
      calls = toolCalls;
      if (t || toolCalls?.length) endThinking(); // the answer began: the reasoning is over
      schedule(live);
    },
    reason(r, live) {
      if (!block) {
        tStart = performance.now();
        block = reasoningBlock('Thinking…');
        bubble.prepend(block.element);
      }
      reasoning = r;
      schedule(live);
    },
    thoughtMs: () => (block ? (Number.isFinite(tEnd) ? tEnd : performance.now()) - tStart : NaN),
    finish() {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
      frame = timer = 0;
      endThinking();
      paint();
      box.removeAttribute('aria-busy');
    },
  };
}

// An inline editor for a user message; resolves to the new text or null.
export function editInPlace(box, text) {
  return new Promise((resolve) => {
    const bubble = box.querySelector('.bubble');
    const meta = box.querySelector('.meta');
    const form = el('div', 'edit-box');
    const ta = el('textarea');
    ta.value = text;
    ta.setAttribute('aria-label', 'Edit your message');
    const row = el('div');
    const done = (v) => { form.replaceWith(bubble); meta.hidden = false; resolve(v); };
    row.append(button('Cancel', () => done(null)), button('Save and resend', () => done(ta.value.trim() || null), { cls: 'primary', testid: 'edit-save' }));
    form.append(ta, row);
    ta.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); done(ta.value.trim() || null); }
      if (ev.key === 'Escape') { ev.preventDefault(); ev.stopPropagation(); done(null); }
    });
    meta.hidden = true;
    bubble.replaceWith(form);
    ta.focus();
  });
}
