// The chat app when loading goes wrong, in headless Chromium: each error
// says what to do and its action works. No WebGPU: the page explains and
// "Use the CPU" loads the model there. Network lost mid-download: "Retry"
// resumes from the bytes already stored (a Range request). Not enough
// storage: the page says how much is missing. Also ?model=URL, and offline
// right after the first visit.
import fs from 'node:fs';
import path from 'node:path';
import { WAIT_MS } from './browser_util.mjs';
import { check, done } from '../lib.mjs';
import { testModel } from '../e2e/util.mjs';
import { serveApp, launch, collectErrors } from './app_helpers.mjs';
import { startModelServer, fileEntry } from './app_model_server.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');
const size = fs.statSync(model).size;

async function settled(page) {
  await page.waitForFunction((sel) => ['ready', 'error'].includes(document.querySelector(sel).textContent), TID('model-status'), { timeout: WAIT_MS });
  return page.textContent(TID('model-status'));
}
async function chooseBackend(page, backend) {
  await page.click(TID('open-settings'));
  await page.selectOption('#set-backend', backend);
  await page.click('#settings-save');
  await page.waitForSelector('#settings-dialog', { state: 'hidden' });
}
const errorText = (page) => page.textContent('#load-error');

const server = await serveApp();
let host = await startModelServer(fileEntry(model));
const url = `${host.url}/${path.basename(model)}`;
const browser = await launch(); // no --enable-unsafe-webgpu: this browser has no WebGPU
try {
  // No WebGPU.
  let page = await (await browser.newContext()).newPage();
  const errors = collectErrors(page);
  await page.goto(`${server.url}/`);
  await page.waitForSelector('html[data-app-ready="1"]');
  await chooseBackend(page, 'webgpu');
  await page.fill(TID('model-url'), url);
  await page.click(TID('load-model'));
  let s = await settled(page);
  let text = await errorText(page);
  check('no WebGPU: the page explains it', s === 'error' && /WebGPU cannot be used/.test(text), `${s}: ${text}`);
  await page.click('#load-error button:text("Use the CPU")');
  s = await settled(page);
  const info = await page.textContent(TID('backend-info'));
  check('no WebGPU: "Use the CPU" loads the model on the CPU', s === 'ready' && /CPU/.test(info), `${s}: ${await errorText(page)} ${info}`);
  check('no WebGPU: no page errors', errors.length === 0, errors.join('; '));

  // Network lost mid-download, then Retry resumes.
  page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/`);
  await page.waitForSelector('html[data-app-ready="1"]');
  await chooseBackend(page, 'cpu');
  host.throttle(Math.ceil(size / 4));
  await page.fill(TID('model-url'), url);
  await page.click(TID('load-model'));
  await page.waitForFunction((sel) => { const p = document.querySelector(sel); return p.value > p.max * 0.25 && p.value < p.max * 0.9; },
    TID('load-progress'), { timeout: WAIT_MS });
  const port = host.port;
  await host.close(); // the connection drops and the host is gone
  s = await settled(page);
  text = await errorText(page);
  check('network lost: the page says the download was interrupted and offers Retry', s === 'error' && /interrupted|could not be downloaded/i.test(text) && /Retry/.test(text), `${s}: ${text}`);
  host = await startModelServer(fileEntry(model), { port });
  await page.click('#load-error button:text("Retry")');
  s = await settled(page);
  const resumed = host.ranges().filter((r) => /^bytes=[1-9]\d*-/.test(r));
  check('network back: Retry loads the model', s === 'ready', `${s}: ${await errorText(page)}`);
  check('... resuming from the stored bytes (Range request)', resumed.length >= 1, JSON.stringify(host.ranges()));
  host.throttle(0);

  // ?model=URL in the page address loads that model, once confirmed (it is no preset: app_links.test.mjs).
  page = await (await browser.newContext()).newPage();
  await page.goto(`${server.url}/web/app/?model=${encodeURIComponent(url)}`);
  await page.click(TID('link-download'));
  s = await settled(page);
  check('?model=URL preloads the model', s === 'ready' && (await page.inputValue(TID('model-url'))) === url, `${s}: ${await errorText(page)}`);

  // Offline right after the first visit (the service worker cached the app and the engine on install).
  const first = await browser.newContext();
  page = await first.newPage();
  await page.goto(`${server.url}/web/app/?model=${encodeURIComponent(url)}`);
  await page.click(TID('link-download'));
  s = await settled(page);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await first.setOffline(true);
  await page.goto(`${server.url}/web/app/`);
  const off = await settled(page);
  check('offline right after the first visit: the app and the stored model load', s === 'ready' && off === 'ready', `${s} -> ${off}: ${await errorText(page)}`);
  await first.setOffline(false);

  // Not enough storage. Chromium offers no dependable way to shrink an origin's quota from a test
  // (DevTools' Storage.overrideQuotaForOrigin makes writes fail but leaves navigator.storage.estimate()
  // unchanged), so the engine's own QuotaExceededError, with the details the store gives it, goes
  // through the page's explanation.
  const quota = await page.evaluate(async () => {
    const E = await import('/web/app/engine/errors.mjs');
    const { explainLoadError } = await import('/web/app/load_errors.mjs');
    const err = new E.QuotaExceededError('the model needs 16.3 MB more storage', { bytes: 16322240, available: 8000000 });
    const r = explainLoadError(err, E, { retry() {}, cpu() {}, manage() {} });
    return { title: r.title, text: r.text, actions: r.actions.map(([label]) => label) };
  });
  check('no storage: the page says how much more is needed', quota.title === 'Not enough storage for this model' &&
    quota.text.startsWith('8.3 MB more space is needed'), JSON.stringify(quota));
  check('no storage: it points to the stored models', quota.actions.includes('Manage stored models'), JSON.stringify(quota));
} finally {
  await browser.close();
  await host.close();
  await server.close();
}
done();
