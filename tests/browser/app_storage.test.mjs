// The chat app and its storage, in headless Chromium (issue 17): a
// conversation deleted while its answer streams stays deleted (in IndexedDB
// and after a reload).
import { WAIT_MS } from './browser_util.mjs';
import { check, done } from '../lib.mjs';
import { testModel } from '../e2e/util.mjs';
import { serveApp, launch, collectErrors } from './app_helpers.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');

// The app open, with the test model read from the file input: 'ready' or what went wrong. An app
// that does not start says so within a minute (not after WAIT_MS).
async function openWithFile(page, url) {
  await page.goto(url);
  try { await page.waitForSelector('html[data-app-ready="1"]', { timeout: 60000 }); } catch { return 'the app did not start'; }
  await page.setInputFiles(TID('model-file'), model);
  await page.waitForFunction((sel) => ['ready', 'error'].includes(document.querySelector(sel).textContent), TID('model-status'), { timeout: WAIT_MS });
  const s = await page.textContent(TID('model-status'));
  return s === 'ready' ? s : `${s}: ${await page.textContent('#load-error')}`;
}

async function setMaxTokens(page, n) {
  await page.click(TID('open-settings'));
  await page.fill('#set-temperature', '0');
  await page.fill('#set-max-tokens', String(n));
  await page.click('#settings-save');
  await page.waitForSelector('#settings-dialog', { state: 'hidden' });
}

const server = await serveApp();
const browser = await launch();
try {
  // Deleted while streaming: the answer that ends afterwards must not store the conversation again.
  const page = await (await browser.newContext()).newPage();
  const errors = collectErrors(page);
  const s = await openWithFile(page, `${server.url}/`);
  check('delete while streaming: the model loads from a file', s === 'ready', `${s} ${errors.join('; ')}`);
  await setMaxTokens(page, 4000);
  await page.fill(TID('prompt'), 'Tell me a long story');
  await page.press(TID('prompt'), 'Enter');
  await page.waitForFunction(() => (document.querySelector('[aria-busy="true"] .bubble')?.textContent.length || 0) > 40, null, { timeout: WAIT_MS });
  const id = await page.evaluate(() => window.hearthApp.state.conv.id);
  await page.click(`li.current ${TID('delete')}`);
  await page.click(`li.current ${TID('delete')}`);
  await page.waitForFunction((gone) => !window.hearthApp.state.gen && window.hearthApp.state.conv.id !== gone, id, { timeout: WAIT_MS });
  // A read queues behind the answer's own write (IndexedDB runs them in order).
  const stored = await page.evaluate(async (gone) => (await window.hearthApp.convs.listConversations()).some((c) => c.id === gone), id);
  check('delete while streaming: the conversation is not in IndexedDB after the answer ends', !stored, `${id} stored again`);
  await page.reload();
  await page.waitForSelector('html[data-app-ready="1"]');
  const listed = await page.$$eval(TID('conversation'), (els) => els.map((e) => e.textContent));
  check('delete while streaming: after a reload it is not listed', !listed.includes('Tell me a long story'), JSON.stringify(listed));
  check('delete while streaming: no page errors', errors.length === 0, errors.join('; '));

} finally {
  await browser.close();
  await server.close();
}
done();
