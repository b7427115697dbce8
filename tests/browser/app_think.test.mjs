// The chat app with reasoning models, in headless Chromium on the CPU path
// with the real engine: a tiny model with DeepSeek-R1's chat template (its
// generation prompt opens "<think>\n", so the answer streams as reasoning)
// shows it in a collapsed "Thinking…" block while it streams, then "Thought
// for N s", equal to the CLI's reasoning; the next turn sends it back as
// reasoning_content, never as <think> markup in the text, and still equals
// the CLI's. A stored reasoning with hostile markup renders through the
// sanitizer. With a Qwen3 template the Think switch shows, is stored with
// the conversation, and off gives the CLI's answer with enable_thinking false;
// a template without enable_thinking hides it.
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { hearth } from '../e2e/util.mjs';
import { deepseekModel, qwenModel } from '../e2e/think_model.mjs';
import { serveApp, launch, collectErrors, shot } from './app_helpers.mjs';
import { startModelServer, fileEntry } from './app_model_server.mjs';
import { WAIT_MS } from './browser_util.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const MAX_TOKENS = 12;
const deepseek = deepseekModel();
const qwen = qwenModel();
if (!deepseek) {
  console.log('# skipped: ../shared/templates/templates.json is missing');
  done();
  process.exit(0);
}

const cli = (model, messages, extra = []) => {
  const r = hearth(['chat', '--model', model, '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json', ...extra,
    ...messages.flatMap((m) => ['--message', m])]);
  if (r.status !== 0) throw new Error(`hearth chat failed: ${r.stderr}`);
  return JSON.parse(r.stdout).turns;
};

async function loadUrl(page, url) {
  await page.fill(TID('model-url'), url);
  await page.click(TID('load-model'));
  await page.waitForFunction((sel) => ['ready', 'error'].includes(document.querySelector(sel).textContent), TID('model-status'), { timeout: WAIT_MS });
  const s = await page.textContent(TID('model-status'));
  return s === 'ready' ? true : `${s}: ${await page.textContent('#load-error')}`;
}

// Sends text; records the reasoning block's summary and open state while the answer streams.
async function ask(page, text) {
  await page.fill(TID('prompt'), text);
  await page.evaluate(() => {
    window.__seen = [];
    window.__obs?.disconnect();
    window.__obs = new MutationObserver(() => {
      const d = document.querySelector('[aria-busy="true"] [data-testid="reasoning"]');
      if (d) window.__seen.push([d.querySelector('summary').textContent, d.open, d.querySelector('.reasoning-body').textContent.length]);
    });
    window.__obs.observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true });
  });
  await page.press(TID('prompt'), 'Enter');
  await page.waitForFunction(() => !window.hearthApp.state.gen && !document.querySelector('[aria-busy="true"]') &&
    window.hearthApp.state.conv.messages.at(-1)?.role === 'assistant', null, { timeout: WAIT_MS });
  return page.evaluate(() => ({ msg: window.hearthApp.state.conv.messages.at(-1), seen: window.__seen }));
}

const lastBlock = (page) => page.evaluate(() => {
  const d = [...document.querySelectorAll('[data-role="assistant"]')].at(-1)?.querySelector('[data-testid="reasoning"]');
  return d && { summary: d.querySelector('summary').textContent, open: d.open, text: d.querySelector('.reasoning-body').textContent };
});

const want = cli(deepseek, ['Hello there', 'And a second question']);
const wantOff = cli(qwen, ['Hi, no thinking'], ['--chat-template-kwargs', '{"enable_thinking": false}']);
const server = await serveApp();
const host = await startModelServer({ ...fileEntry(deepseek), ...fileEntry(qwen) });
const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
  const errors = collectErrors(page);
  await page.goto(`${server.url}/?exact`);
  await page.waitForSelector('html[data-app-ready="1"]');
  const greedy = async () => {
    await page.click(TID('open-settings'));
    await page.selectOption('#set-backend', 'cpu');
    await page.fill('#set-temperature', '0');
    await page.fill('#set-max-tokens', String(MAX_TOKENS));
    await page.click('#settings-save');
  };
  await greedy();

  // DeepSeek-R1's template: every answer starts in the reasoning.
  let ready = await loadUrl(page, `${host.url}/${path.basename(deepseek)}`);
  check('a model with DeepSeek-R1\'s template loads', ready === true, `${ready} ${errors.join('; ')}`);
  check('its template has no enable_thinking: no Think switch', await page.isHidden('#think-switch'));
  const a1 = await ask(page, 'Hello there');
  check('while it streams, the reasoning shows in a collapsed "Thinking…" block that grows',
    a1.seen.some(([s, open]) => s === 'Thinking…' && !open) && new Set(a1.seen.map((x) => x[2])).size >= 3,
    JSON.stringify(a1.seen.slice(0, 6)));
  let block = await lastBlock(page);
  check('then it says "Thought for N s", still collapsed', block && /^Thought for \d+(\.\d)? s$/.test(block.summary) && !block.open,
    JSON.stringify(block));
  check('the reasoning equals the CLI\'s, the answer text (empty: max_tokens came first) too',
    a1.msg.reasoning === want[0].reasoning && a1.msg.content === want[0].assistant && block.text.trim() === want[0].reasoning.trim(),
    `${JSON.stringify(a1.msg)} vs ${JSON.stringify(want[0])}`);
  await page.click('[data-testid="reasoning"] summary');
  check('a click opens it', (await lastBlock(page)).open);
  await shot(page, 'reasoning');

  // The next turn: the app sends the reasoning as reasoning_content (the template drops it), not as markup.
  await page.evaluate(() => {
    const e = window.hearthApp.state.engine, create = e.chat.completions.create;
    window.__sent = [];
    e.chat.completions.create = (p) => { window.__sent.push(structuredClone({ ...p, signal: undefined })); return create(p); };
  });
  const a2 = await ask(page, 'And a second question');
  const sent = await page.evaluate(() => window.__sent.at(-1).messages);
  check('the next request carries the earlier reasoning as reasoning_content, no <think> in any content',
    sent[1].role === 'assistant' && sent[1].reasoning_content === want[0].reasoning && sent.every((m) => !m.content.includes('<think>')),
    JSON.stringify(sent));
  check('the second turn equals the CLI\'s', a2.msg.reasoning === want[1].reasoning && a2.msg.content === want[1].assistant,
    `${JSON.stringify(a2.msg)} vs ${JSON.stringify(want[1])}`);

  // Stored reasoning renders through the same sanitizer as answers.
  const hostile = await page.evaluate(async () => {
    const { state, renderConversation } = window.hearthApp;
    state.conv.messages.push({ role: 'user', content: 'x' }, {
      role: 'assistant', content: 'ok', thoughtMs: 1500,
      reasoning: '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>[l](javascript:alert(1)) <b style="color:red">b</b> **fine**',
    });
    renderConversation();
    await new Promise((r) => setTimeout(r, 100));
    const d = [...document.querySelectorAll('[data-testid="reasoning"]')].at(-1);
    const body = d.querySelector('.reasoning-body');
    const r = { summary: d.querySelector('summary').textContent, img: body.querySelectorAll('img, script, [style], [onerror]').length,
      js: [...body.querySelectorAll('a')].filter((a) => /^javascript:/i.test(a.getAttribute('href') || '')).length,
      strong: body.querySelectorAll('strong').length, pwned: window.__pwned ?? 0 };
    state.conv.messages.splice(-2);
    renderConversation();
    return r;
  });
  check('reasoning is sanitized Markdown (no img, script, style, javascript: link)',
    hostile.img === 0 && hostile.js === 0 && hostile.strong === 1 && hostile.pwned === 0 && hostile.summary === 'Thought for 1.5 s', JSON.stringify(hostile));

  // Qwen3's template: the Think switch, per conversation.
  await page.click(TID('new-chat'));
  // (the model's long file name covers its Change button: open the picker as that button does)
  await page.evaluate((sel) => document.querySelector(sel).click(), TID('change-model'));
  ready = await loadUrl(page, `${host.url}/${path.basename(qwen)}`);
  check('a model with Qwen3\'s template loads', ready === true, `${ready} ${errors.join('; ')}`);
  await greedy();
  check('its template reads enable_thinking: the Think switch shows, on', await page.isVisible('#think-switch') && await page.isChecked(TID('think-toggle')));
  await page.uncheck(TID('think-toggle'));
  const off = await ask(page, 'Hi, no thinking');
  check('Think off answers as the CLI with enable_thinking false, with no reasoning block',
    off.msg.content === wantOff[0].assistant && !off.msg.reasoning && !(await lastBlock(page)), `${JSON.stringify(off.msg)} vs ${JSON.stringify(wantOff[0])}`);
  const stored = await page.evaluate(async () => (await window.hearthApp.convs.getConversation(window.hearthApp.state.conv.id)).thinking);
  check('the switch is stored with the conversation', stored === false, JSON.stringify(stored));
  await page.click(TID('new-chat'));
  check('a new conversation starts with thinking on', await page.isChecked(TID('think-toggle')));
  await page.click(`${TID('conversation')}:has-text("Hi, no thinking")`);
  // (it opens once IndexedDB has read it, after the writes queued before)
  await page.waitForFunction((sel) => !document.querySelector(sel).checked, TID('think-toggle'), { timeout: 5000 }).catch(() => {});
  check('going back to it brings its switch back (off)', !(await page.isChecked(TID('think-toggle'))));
  check('no page errors', errors.length === 0, errors.join('; '));
} finally {
  await browser.close();
  await host.close?.();
  await server.close();
}
done();
