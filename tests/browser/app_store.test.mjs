// The model store under two tabs, interrupted downloads and crashes (issue 17, items 2, 7, 8),
// headless Chromium, the model host another origin (app_model_server.mjs): a model downloaded in one
// tab loads in another at the same time; Delete in a tab refuses a model another tab runs without
// unloading its own engine; a partial download is listed with the bytes it holds; a directory left
// without its description (a crash) is listed and can be deleted; a crash while the description is
// written loses no model.
import { WAIT_MS } from './browser_util.mjs';
import { check, done } from '../lib.mjs';
import { testModel } from '../e2e/util.mjs';
import { serveApp, launch } from './app_helpers.mjs';
import { startModelServer } from './app_model_server.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');

const server = await serveApp();
const host = await startModelServer({ '/m.gguf': model, '/p.gguf': model });
const browser = await launch();
const status = (page) => page.textContent(TID('model-status'));
async function open(context, errors) {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/web/app/`);
  await page.waitForSelector('html[data-app-ready="1"]', { timeout: 60000 });
  return page;
}
async function loadUrl(page, url) {
  await page.fill(TID('model-url'), url);
  await page.click(TID('load-model'));
}
async function settled(page) {
  await page.waitForFunction((sel) => ['ready', 'error'].includes(document.querySelector(sel).textContent), TID('model-status'), { timeout: WAIT_MS }).catch(() => {});
  const s = await status(page);
  return s === 'ready' ? s : `${s}: ${await page.textContent('#load-error')}`;
}
// The Models dialog's rows, as text, once listed.
async function modelRows(page) {
  await page.evaluate(() => { document.getElementById('models-dialog').close(); document.getElementById('models-storage').textContent = ''; });
  await page.click(TID('open-models'));
  await page.waitForFunction(() => /^\d+ models?,/.test(document.getElementById('models-storage').textContent), null, { timeout: 10000 }).catch(() => {});
  return page.$$eval(TID('cached-model'), (els) => els.map((e) => e.textContent));
}
// In the page: the store's directory of a model id, or of a raw name.
const IN_PAGE_HELPERS = `
  window.__dir = async (name, create = false) => (await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth-models', { create: true })).getDirectoryHandle(name, { create });
  window.__key = async (id) => (await import('/web/app/engine/store.mjs')).modelKey(id);
`;

try {
  const context = await browser.newContext();
  await context.addInitScript(IN_PAGE_HELPERS);
  const errors = [];
  const a = await open(context, errors);
  await loadUrl(a, `${host.url}/m.gguf`);
  check('store: tab A downloads and loads the model', await settled(a) === 'ready', await settled(a));
  const b = await open(context, errors); // it loads the model A used last (stored, complete)
  const sb = await settled(b);
  check('two tabs: tab B loads the model tab A downloaded and runs', sb === 'ready', sb);

  // Delete in A while B runs it: refused, and A's own engine keeps running.
  await modelRows(a);
  await a.click(`${TID('cached-model')}:has-text("m.gguf") ${TID('delete-model')}`);
  await a.waitForFunction(() => /could not delete/i.test(document.getElementById('models-storage').textContent), null, { timeout: 10000 }).catch(() => {});
  const said = await a.textContent('#models-storage');
  check('delete in use elsewhere: refused with what to do', /another tab/i.test(said), said);
  check('delete in use elsewhere: this tab\'s engine still runs the model', await status(a) === 'ready', await status(a));
  const rows = await modelRows(a);
  check('delete in use elsewhere: the model is still stored', rows.some((r) => r.includes('m.gguf')), JSON.stringify(rows));

  // A download cut short (its tab closed at about a third): listed with the bytes it holds.
  host.throttle(4 << 20);
  const c = await open(context, errors);
  await settled(c);
  await c.click(TID('change-model'));
  await loadUrl(c, `${host.url}/p.gguf`);
  await c.waitForFunction((sel) => { const p = document.querySelector(sel); return p.value > p.max * 0.25; }, TID('load-progress'), { timeout: WAIT_MS });
  await c.close();
  host.throttle(0);
  await a.waitForTimeout(300);
  const held = await a.evaluate(async (id) => (await (await (await window.__dir(await window.__key(id))).getFileHandle('part-1.gguf')).getFile()).size, `${host.url}/p.gguf`);
  const [heldText, totalText] = await a.evaluate(async ([n, t]) => { const { bytes } = await import('/web/app/format.mjs'); return [bytes(n), bytes(t)]; }, [held, 16322240]);
  const partial = (await modelRows(a)).find((r) => r.includes('p.gguf')) || '';
  check('partial download: listed with the bytes it holds, of the whole', held > 0 && heldText !== totalText && partial.includes(`${heldText} of ${totalText}`) && /partly/.test(partial), `${held} bytes held: ${JSON.stringify(partial)}`);

  // A directory without its description, as a crash before the first write leaves: listed, deletable.
  await a.evaluate(async () => {
    const w = await (await (await window.__dir('orphaned-by-a-crash', true)).getFileHandle('part-1.gguf', { create: true })).createWritable();
    await w.write(new Uint8Array(5000));
    await w.close();
  });
  const orphan = (await modelRows(a)).find((r) => /unfinished/i.test(r)) || '';
  check('orphan: a model directory without a description is listed with its size', /4\.9 KB|5\.0 KB|5000 B/.test(orphan), JSON.stringify(orphan));
  if (orphan) await a.click(`${TID('cached-model')}:has-text("Unfinished") ${TID('delete-model')}`);
  await a.waitForTimeout(500);
  const gone = await a.evaluate(async () => { try { await window.__dir('orphaned-by-a-crash'); return false; } catch { return true; } });
  check('orphan: Delete removes it', gone, 'still there');

  // A crash while the description is written: the newest description file cut in half.
  await a.evaluate(async (id) => {
    const dir = await window.__dir(await window.__key(id));
    let newest = null;
    for await (const [name, h] of dir.entries()) {
      if (!/^meta.*\.json$/.test(name)) continue;
      const seq = JSON.parse(await (await h.getFile()).text()).seq || 0;
      if (!newest || seq > newest.seq) newest = { h, seq };
    }
    const size = (await newest.h.getFile()).size;
    const w = await newest.h.createWritable({ keepExistingData: true });
    await w.truncate(Math.floor(size / 2));
    await w.close();
  }, `${host.url}/m.gguf`);
  const after = await a.evaluate(async () => (await import('/web/app/engine.mjs')).cachedModels());
  check('crash while the description is written: the model is still listed', after.some((m) => m.id.endsWith('/m.gguf')), JSON.stringify(after.map((m) => m.id)));
  check('store: no page errors', errors.length === 0, errors.join('; '));
} finally {
  await browser.close();
  await host.close();
  await server.close();
}
done();
