// The chat app served by `hearth serve --app web/app` (issue 19), in headless Chromium: the
// "This machine's server" backend shows with the server's model, is chosen in Settings like the
// other backends, and its answer at temperature 0 (streamed from POST /v1/chat/completions) equals
// `hearth chat --temperature 0` on the same model and message, and is kept in the app's store; Stop
// mid-answer aborts the fetch and the server's slot is free again (GET /health); a server with an
// API key answers 401 until the key typed in the app is right; the app from the development server
// (web/serve.mjs) has no such option.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { WAIT_MS } from './browser_util.mjs';
import { check, done } from '../lib.mjs';
import { hearth, health, testModel, waitHealth, HEARTH, ROOT } from '../e2e/util.mjs';
import { serveApp, launch, collectErrors, shot } from './app_helpers.mjs';
import { setSettings } from './app_flow.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');
const MODEL_ID = path.basename(model);
const COMMON = ['--model', model, '--threads', '1', '--ctx', '4096'];
const MAX_TOKENS = 24;
const children = [];

// `hearth serve` with the app on a free port; resolves with its URL once it says where it listens.
function hearthServe(env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(HEARTH, ['serve', ...COMMON, '--parallel', '1', '--port', '0', '--app', path.join(ROOT, 'web/app')],
      { env: { ...process.env, ...env } });
    children.push(child);
    let log = '';
    child.stderr.on('data', (d) => {
      log += d;
      const m = /on (http:\/\/[^ ]+?)\/? \(/.exec(log);
      if (m && !child.url) resolve(Object.assign(child, { url: m[1] }));
    });
    child.on('exit', (code) => reject(new Error(`hearth serve exited (${code}): ${log}`)));
  });
}

function cliAnswer(message) {
  const r = hearth(['chat', ...COMMON, '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json', '--message', message]);
  if (r.status !== 0) throw new Error(`hearth chat failed: ${r.stderr}`);
  return JSON.parse(r.stdout).turns[0].assistant;
}

const status = (page) => page.textContent(TID('model-status'));
async function waitReady(page) {
  await page.waitForFunction((sel) => ['ready', 'error'].includes(document.querySelector(sel)?.textContent), TID('model-status'));
  return (await status(page)) === 'ready' || `${await status(page)}: ${await page.textContent('#load-error')}`;
}

// Sends text; with stopAfter, presses Stop once the answer shows that many characters. The stored answer.
async function ask(page, text, { stopAfter = 0, onStreaming = null } = {}) {
  await page.fill(TID('prompt'), text);
  await page.press(TID('prompt'), 'Enter');
  if (stopAfter) {
    await page.waitForFunction((n) => (document.querySelector('[aria-busy="true"] .answer')?.textContent.length ?? 0) >= n, stopAfter);
    await onStreaming?.();
    await page.click(TID('stop'));
  }
  await page.waitForFunction(() => !window.hearthApp.state.gen && window.hearthApp.state.conv.messages.at(-1)?.role === 'assistant',
    null, { timeout: WAIT_MS });
  return page.evaluate(() => window.hearthApp.state.conv.messages.at(-1));
}

const dev = await serveApp(); // make app, then the development server
const browser = await launch();
try {
  const want = cliAnswer('Hello there');
  const server = await hearthServe();
  const page = await browser.newPage();
  const errors = collectErrors(page);
  await page.goto(`${server.url}/`);
  await page.waitForSelector('html[data-app-ready="1"]');
  await page.waitForSelector(`${TID('server-box')}:not([hidden])`);
  check('served by hearth serve: the server box names the server\'s model (GET /v1/models)',
    (await page.textContent(TID('server-model'))).includes(MODEL_ID), await page.textContent(TID('server-model')));
  check('served by hearth serve: "This machine\'s server" is a backend beside CPU/WebGPU in Settings',
    await page.$eval('#set-backend', (s) => [...s.options].map((o) => o.value).join()) === 'auto,webgpu,cpu,server');

  // Chosen in Settings like the other backends, with the sampling settings of the conversation.
  await setSettings(page, { backend: 'server', temperature: 0, maxTokens: MAX_TOKENS });
  check('choosing the server: ready at once, no download', await waitReady(page) === true && await page.$(`${TID('load-progress')}:visible`) === null);
  check('the model\'s name from /v1/models in the top bar', (await page.textContent('#model-name')).includes(MODEL_ID), await page.textContent('#model-name'));
  await page.click(TID('open-settings'));
  const info = await page.textContent(TID('backend-info'));
  await page.click('#settings-dialog button[value="cancel"]');
  check('Settings describe what runs: this machine\'s server and its model', /this machine's server/i.test(info) && info.includes(MODEL_ID), info);
  const answer = await ask(page, 'Hello there');
  check('the server\'s streamed answer at temperature 0 = hearth chat --temperature 0', answer.content === want && !answer.error,
    JSON.stringify([answer, want]));
  check('the answer shows in the page with its token count', (await page.locator(`${TID('message')}[data-role="assistant"]`).last().textContent()).includes(`${MAX_TOKENS} tokens`));
  const stored = await page.evaluate(async () => {
    const id = window.hearthApp.state.conv.id;
    return (await window.hearthApp.convs.getConversation(id))?.messages.map((m) => m.content);
  });
  check('the conversation is kept in the app\'s store (IndexedDB)', JSON.stringify(stored) === JSON.stringify(['Hello there', want]), JSON.stringify(stored));

  // Stop mid-answer: the fetch is aborted, and the server frees the slot.
  await page.click(TID('new-chat'));
  await setSettings(page, { temperature: 0, maxTokens: 4000 });
  let busy = null;
  const stopped = await ask(page, 'Go on', { stopAfter: 8, onStreaming: async () => { busy = await health(server.url); } });
  const idle = await waitHealth(server.url, (h) => h.slots_busy === 0 && h.queued === 0);
  check('while the answer streams, the server\'s one slot is busy', busy?.slots_busy === 1, JSON.stringify(busy));
  check('Stop mid-answer: the answer ends, marked stopped, no error', stopped.stats?.stopped === true && !stopped.error &&
    stopped.content.length >= 8, JSON.stringify(stopped));
  check('after Stop the server\'s slot is free again and the request counted as cancelled (GET /health)',
    idle.slots_busy === 0 && idle.cancelled >= 1, JSON.stringify(idle));

  // Chosen on an earlier visit: back after a reload, without a click.
  await page.reload();
  await page.waitForSelector('html[data-app-ready="1"]');
  check('the server backend comes back after a reload', await waitReady(page) === true &&
    (await page.textContent('#model-name')).includes(MODEL_ID));
  check('no errors in the page', errors.length === 0, errors.join('\n'));
  await shot(page, 'server-backend');
  await page.close();

  // A server that needs an API key: 401 shown the way the app shows errors, the key asked for, then the answer.
  const keyed = await hearthServe({ HEARTH_API_KEY: 'sesame' });
  const kpage = await browser.newPage();
  await kpage.goto(`${keyed.url}/`);
  await kpage.waitForSelector('html[data-app-ready="1"]');
  await kpage.waitForSelector(`${TID('server-box')}:not([hidden])`);
  check('a server with --api-key: the key field shows', await kpage.isVisible(TID('server-key')));
  await kpage.fill(TID('server-key'), 'wrong');
  await kpage.click(TID('use-server'));
  await kpage.waitForSelector('#load-error:not([hidden])');
  const denied = await kpage.textContent('#load-error');
  check('a wrong key: the server\'s 401 error (OpenAI\'s shape) shown in the error box, the key field empty',
    /API key/.test(denied) && /401/.test(denied) && await kpage.inputValue(TID('server-key')) === '', denied);
  await kpage.fill(TID('server-key'), 'sesame');
  await kpage.click(TID('use-server'));
  check('the right key: ready', await waitReady(kpage) === true);
  await setSettings(kpage, { temperature: 0, maxTokens: MAX_TOKENS });
  const kanswer = await ask(kpage, 'Hello there');
  check('with the key, the answer = hearth chat --temperature 0', kanswer.content === want && !kanswer.error, JSON.stringify(kanswer));
  check('the key is kept in memory only, not in localStorage', !(await kpage.evaluate(() => JSON.stringify({ ...localStorage }))).includes('sesame'));
  await kpage.close();

  // The development server: no /health, no option.
  const dpage = await browser.newPage();
  await dpage.goto(`${dev.url}/`);
  await dpage.waitForSelector('html[data-app-ready="1"]');
  check('served by the development server: no server box, no "This machine\'s server" backend',
    await dpage.isHidden(TID('server-box')) && await dpage.$('#set-backend option[value="server"]') === null);
  await dpage.close();
} catch (e) {
  check('app_server test ran to its end', false, e.stack);
} finally {
  await browser.close();
  await dev.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  done();
}
