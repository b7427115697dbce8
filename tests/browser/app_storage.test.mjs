// The chat app and its storage, in headless Chromium (issue 17): a
// conversation deleted while its answer streams stays deleted (in IndexedDB
// and after a reload), and a browser that blocks storage (localStorage,
// IndexedDB and navigator.storage throw or refuse, as in a third-party frame
// or with site data turned off) still gets a working app, with a visible
// notice that nothing will be kept, a model opened from a local file and an
// answer. A full disk (every IndexedDB write refused with QuotaExceededError)
// loses nothing: a message that cannot be stored stays in the box, unsent,
// with a visible error saying what to delete.
import { WAIT_MS } from './browser_util.mjs';
import { check, done } from '../lib.mjs';
import { testModel } from '../e2e/util.mjs';
import { serveApp, launch, collectErrors, shot } from './app_helpers.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');

// Runs in the page before its scripts: every storage door refuses, the way a blocking browser does.
function blockStorage() {
  const denied = () => { throw new DOMException('Access is denied for this document.', 'SecurityError'); };
  for (const name of ['localStorage', 'sessionStorage', 'indexedDB']) Object.defineProperty(window, name, { get: denied, configurable: true });
  Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: denied, configurable: true }); // as in a sandboxed frame
  for (const fn of ['estimate', 'persist', 'persisted', 'getDirectory']) {
    if (navigator.storage) navigator.storage[fn] = () => Promise.reject(new DOMException('Access is denied.', 'SecurityError'));
  }
}

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

// Runs in the page before its scripts: while window.hearthDiskFull is set, IndexedDB writes fail as
// on a full disk (the transaction aborts with QuotaExceededError); every write, or with 'answers'
// only those that store an answer.
function fillDiskOnDemand() {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    const full = window.hearthDiskFull;
    if (full === true || (full === 'answers' && args[0]?.messages?.at(-1)?.role === 'assistant')) {
      const req = put.apply(this, args);
      Object.defineProperty(this.transaction, 'error', { value: new DOMException('The quota has been exceeded.', 'QuotaExceededError') });
      this.transaction.abort();
      return req;
    }
    return put.apply(this, args);
  };
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
  let page = await (await browser.newContext()).newPage();
  let errors = collectErrors(page);
  let s = await openWithFile(page, `${server.url}/`);
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

  // Storage blocked.
  const context = await browser.newContext();
  await context.addInitScript(blockStorage);
  page = await context.newPage();
  errors = collectErrors(page);
  s = await openWithFile(page, `${server.url}/web/app/`);
  const notice = page.locator(TID('storage-notice'));
  const noticeText = (await notice.count()) && await notice.isVisible() ? await notice.textContent() : '';
  check('storage blocked: the page says nothing will be kept', /nothing .*kept/i.test(noticeText), JSON.stringify(noticeText));
  if (check('storage blocked: a model opens from a local file', s === 'ready', `${s} ${errors.join('; ')}`)) {
    await setMaxTokens(page, 8);
    await page.fill(TID('prompt'), 'Hello there');
    await page.press(TID('prompt'), 'Enter');
    await page.waitForFunction(() => !window.hearthApp.state.gen && window.hearthApp.state.conv.messages.at(-1)?.role === 'assistant', null, { timeout: WAIT_MS });
    const answer = await page.evaluate(() => window.hearthApp.state.conv.messages.at(-1));
    const titles = await page.$$eval(TID('conversation'), (els) => els.map((e) => e.textContent));
    check('storage blocked: it answers', answer.content.length > 0 && !answer.error, JSON.stringify(answer));
    check('storage blocked: the conversation is listed for this visit', titles.includes('Hello there'), JSON.stringify(titles));
  }
  check('storage blocked: no page errors', errors.length === 0, errors.join('; '));

  // Disk full: the message stays in the box, unsent, with what to delete; once there is room it goes.
  const full = await browser.newContext();
  await full.addInitScript(fillDiskOnDemand);
  page = await full.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  s = await openWithFile(page, `${server.url}/web/app/`);
  if (check('disk full: the model loads from a file', s === 'ready', s)) {
    await setMaxTokens(page, 8);
    await page.evaluate(() => { window.hearthDiskFull = true; });
    await page.fill(TID('prompt'), 'Keep this text');
    await page.press(TID('prompt'), 'Enter');
    await page.waitForSelector(`${TID('save-error')}:visible`, { timeout: 10000 }).catch(() => {});
    const box = await page.inputValue(TID('prompt'));
    const err = page.locator(TID('save-error'));
    const errText = (await err.count()) && await err.isVisible() ? await err.textContent() : '';
    await shot(page, 'app-disk-full');
    const sent = await page.evaluate(() => ({ messages: window.hearthApp.state.conv.messages.length, gen: !!window.hearthApp.state.gen }));
    check('disk full: the text stays in the box', box === 'Keep this text', JSON.stringify(box));
    check('disk full: a visible error says storage is full and what to delete', /full/i.test(errText) && /delete/i.test(errText) && /model/i.test(errText) && /conversation/i.test(errText), JSON.stringify(errText));
    check('disk full: nothing is sent or answered', sent.messages === 0 && !sent.gen, JSON.stringify(sent));
    await page.evaluate(() => { window.hearthDiskFull = false; });
    await page.press(TID('prompt'), 'Enter');
    await page.waitForFunction(() => !window.hearthApp.state.gen && window.hearthApp.state.conv.messages.at(-1)?.role === 'assistant', null, { timeout: 60000 }).catch(() => {});
    const after = await page.evaluate(async () => {
      const c = window.hearthApp.state.conv;
      const stored = await window.hearthApp.convs.getConversation(c.id);
      return { roles: c.messages.map((m) => m.role), answer: c.messages.at(-1)?.content, stored: stored?.messages.length };
    });
    check('disk full, then room: the message is sent and answered', after.roles.join() === 'user,assistant' && after.answer.length > 0, JSON.stringify(after));
    check('disk full, then room: both are stored', after.stored === 2, JSON.stringify(after));
    check('disk full, then room: the error is gone', !(await err.isVisible()), '');

    // The answer is the write refused: it stays on screen, marked as not saved.
    await page.evaluate(() => { window.hearthDiskFull = 'answers'; });
    await page.fill(TID('prompt'), 'And another');
    await page.press(TID('prompt'), 'Enter');
    await page.waitForFunction(() => !window.hearthApp.state.gen && window.hearthApp.state.conv.messages.length === 4, null, { timeout: 60000 }).catch(() => {});
    const last = page.locator(`${TID('message')}[data-role="assistant"]`).last();
    const meta = await last.locator('.meta').textContent();
    const stored = await page.evaluate(async () => (await window.hearthApp.convs.getConversation(window.hearthApp.state.conv.id)).messages.length);
    const answerError = (await err.isVisible()) ? await err.textContent() : '';
    check('answer not stored: it stays on screen marked as not saved', (await last.locator('.bubble').textContent()).length > 0 && /not saved/i.test(meta), meta);
    check('answer not stored: the error says what to delete', /answer/i.test(answerError) && /delete/i.test(answerError), JSON.stringify(answerError));
    check('answer not stored: the store holds the question only', stored === 3, String(stored));
  }
  check('disk full: no unhandled page errors', pageErrors.length === 0, pageErrors.join('; '));
} finally {
  await browser.close();
  await server.close();
}
done();
