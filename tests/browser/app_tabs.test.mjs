// The chat app in two tabs of one browser (issue 17, item 3), headless Chromium: a turn sent in one
// tab does not overwrite a turn another tab stored meanwhile (even with no BroadcastChannel, so the
// stale tab cannot have heard of it), a tab that can hear shows the other's turn without a reload,
// and renaming a conversation another tab deleted neither throws nor brings it back.
import { WAIT_MS } from './browser_util.mjs';
import { check, done } from '../lib.mjs';
import { testModel } from '../e2e/util.mjs';
import { serveApp, launch } from './app_helpers.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');

// Before the page's scripts: a tab opened at #nobc has no BroadcastChannel (it hears nothing).
function maybeNoChannel() {
  if (location.hash === '#nobc') delete window.BroadcastChannel;
}

async function open(context, url, errors) {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForSelector('html[data-app-ready="1"]', { timeout: 60000 });
  return page;
}

async function loadModel(page) {
  await page.setInputFiles(TID('model-file'), model);
  await page.waitForFunction((sel) => ['ready', 'error'].includes(document.querySelector(sel).textContent), TID('model-status'), { timeout: WAIT_MS });
  await page.click(TID('open-settings'));
  await page.fill('#set-temperature', '0');
  await page.fill('#set-max-tokens', '3');
  await page.click('#settings-save');
  return page.textContent(TID('model-status'));
}

async function ask(page, text) {
  const n = await page.evaluate(() => window.hearthApp.state.conv.messages.length);
  await page.fill(TID('prompt'), text);
  await page.press(TID('prompt'), 'Enter');
  await page.waitForFunction((k) => !window.hearthApp.state.gen && window.hearthApp.state.conv.messages.length > k + 1 &&
    window.hearthApp.state.conv.messages.at(-1).role === 'assistant', n, { timeout: WAIT_MS });
}

const stored = (page) => page.evaluate(async () => (await window.hearthApp.convs.listConversations())
  .map((c) => ({ id: c.id, users: c.messages.filter((m) => m.role === 'user').map((m) => m.content) })));

const server = await serveApp();
const browser = await launch();
try {
  const context = await browser.newContext();
  await context.addInitScript(maybeNoChannel);
  const errors = [];
  const a = await open(context, `${server.url}/web/app/`, errors);
  check('tabs: tab A loads the model', await loadModel(a) === 'ready', errors.join('; '));
  await ask(a, 'first from A');
  // B (deaf) and C open the conversation A stored.
  const b = await open(context, `${server.url}/web/app/#nobc`, errors);
  check('tabs: tab B loads the model', await loadModel(b) === 'ready', errors.join('; '));
  const c = await open(context, `${server.url}/web/app/`, errors);
  await ask(a, 'second from A');
  await c.waitForFunction(() => window.hearthApp.state.conv.messages.length === 4, null, { timeout: 10000 }).catch(() => {});
  const seen = await c.$$eval(`${TID('message')}[data-role="user"]`, (els) => els.map((e) => e.textContent));
  check('tabs: another tab shows the new turn without a reload', seen.some((t) => t.includes('second from A')), JSON.stringify(seen));
  await ask(b, 'from B');
  const all = await stored(a);
  check('tabs: one conversation stored', all.length === 1, JSON.stringify(all));
  check('tabs: a stale tab\'s turn keeps the other tab\'s turns', JSON.stringify(all[0]?.users) === JSON.stringify(['first from A', 'second from A', 'from B']), JSON.stringify(all));

  // Rename in C, delete in A meanwhile, then C confirms the name.
  await c.click(TID('rename'));
  await c.fill('input[aria-label="New name"]', 'renamed');
  await a.click(TID('delete'));
  await a.click(TID('delete'));
  await a.waitForFunction(() => window.hearthApp.state.conv.messages.length === 0, null, { timeout: 10000 });
  if (await c.locator('input[aria-label="New name"]').count()) await c.press('input[aria-label="New name"]', 'Enter');
  await c.waitForTimeout(500);
  const left = await stored(c);
  check('tabs: renaming a conversation another tab deleted does not bring it back', left.length === 0, JSON.stringify(left));
  check('tabs: no page errors', errors.length === 0, errors.join('; '));
} finally {
  await browser.close();
  await server.close();
}
done();
