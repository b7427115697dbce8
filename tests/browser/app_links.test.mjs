// Hostile links to the chat app (issue 17, item 1), headless Chromium, the model host another origin
// (app_model_server.mjs): ?model=URL of a file that is not a preset fetches nothing before the person
// confirms, having seen the host and the size; a file that downloads but fails to parse keeps no
// bytes; a link cancelled is not remembered; a foreign model named like a preset is labelled with
// its host, also when it comes back on the next visit.
import fs from 'node:fs';
import path from 'node:path';
import { WAIT_MS } from './browser_util.mjs';
import { check, done } from '../lib.mjs';
import { BUILD, testModel } from '../e2e/util.mjs';
import { serveApp, launch } from './app_helpers.mjs';
import { startModelServer } from './app_model_server.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');
// The test model with a tensor renamed (same length): its header passes the check a download makes
// on the first megabytes (types, architecture), so the whole file downloads, and then the loader
// refuses it (a tensor is missing).
const junk = path.join(BUILD, 'models', 'links-junk.gguf');
{
  const b = fs.readFileSync(model);
  const at = b.indexOf('output_norm.weight', 0, 'latin1');
  if (at < 0) throw new Error(`${model}: no output_norm.weight tensor to rename`);
  b.write('outpuX', at, 'latin1');
  fs.writeFileSync(junk, b);
}
const PRESET_NAME = 'smollm2-360m-instruct-q8_0.gguf'; // a preset's file name, on a foreign host

const server = await serveApp();
const host = await startModelServer({ '/junk.gguf': junk, [`/${PRESET_NAME}`]: model });
const gets = () => host.ranges().length;
const browser = await launch();
const ready = (page) => page.waitForSelector('html[data-app-ready="1"]', { timeout: 60000 });
const status = (page) => page.textContent(TID('model-status'));
async function settled(page) {
  await page.waitForFunction((sel) => ['ready', 'error'].includes(document.querySelector(sel).textContent), TID('model-status'), { timeout: WAIT_MS }).catch(() => {});
  return status(page);
}
const confirmText = async (page) => {
  const box = page.locator(TID('link-confirm'));
  await box.waitFor({ state: 'visible', timeout: 5000 }).catch(() => {});
  await page.waitForFunction((sel) => !/Asking/.test(document.querySelector(sel)?.textContent || 'x'), TID('link-confirm'), { timeout: 5000 }).catch(() => {});
  return (await box.count()) && await box.isVisible() ? box.textContent() : '';
};

try {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const hostName = new URL(host.url).host;
  const link = (name) => `${server.url}/web/app/?model=${encodeURIComponent(`${host.url}/${name}`)}`;

  // A link to junk: nothing fetched before confirming; the size and host shown.
  await page.goto(link('junk.gguf'));
  await ready(page);
  await page.waitForTimeout(1500);
  check('link: nothing is downloaded before the person confirms', gets() === 0, `${gets()} GET requests`);
  const text = await confirmText(page);
  const size = await page.evaluate(async (n) => (await import('/web/app/format.mjs')).bytes(n), fs.statSync(junk).size);
  check('link: the question shows the host and the size', text.includes(hostName) && text.includes(size), JSON.stringify(text));
  if (await page.locator(TID('link-download')).count()) await page.click(TID('link-download'));
  const s = await settled(page);
  const stored = await page.evaluate(async () => (await import('/web/app/engine.mjs')).cachedModels());
  check('link: a file that fails to parse is refused', s === 'error', s);
  check('link: ... and keeps no bytes in the store', stored.length === 0, JSON.stringify(stored));

  // A foreign model named like a preset: cancelled, it is neither fetched nor remembered.
  const before = gets();
  await page.goto(link(PRESET_NAME));
  await ready(page);
  await confirmText(page);
  if (await page.locator(TID('link-cancel')).count()) await page.click(TID('link-cancel'));
  await page.goto(`${server.url}/web/app/`);
  await ready(page);
  await page.waitForTimeout(1500);
  check('link cancelled: nothing downloaded, nothing loaded on the next visit', gets() === before && await status(page) === 'no model', `${gets() - before} GETs, ${await status(page)}`);

  // Confirmed: it loads, labelled with its host, and comes back so on the next visit.
  await page.goto(link(PRESET_NAME));
  await ready(page);
  await confirmText(page);
  if (await page.locator(TID('link-download')).count()) await page.click(TID('link-download'));
  check('link confirmed: the model loads', await settled(page) === 'ready', await page.textContent('#load-error'));
  const label = await page.textContent('#model-name');
  check('link confirmed: its label shows the host it came from', label.includes(hostName), JSON.stringify(label));
  await page.goto(`${server.url}/web/app/`);
  await ready(page);
  await settled(page);
  const again = await page.textContent('#model-name');
  check('next visit: the remembered model still shows its host', again.includes(hostName), JSON.stringify(again));

  // Caps (the store's checks, run in the page with a small quota): a download with no length stops
  // at the quota as its bytes arrive, and a WebGPU model has a size limit as the CPU path has.
  const caps = await page.evaluate(async () => {
    const g = await import('/web/app/engine/store_gguf.mjs');
    navigator.storage.estimate = async () => ({ quota: 1e6, usage: 0 });
    const soFar = await g.checkParts([{ total: null, have: 0 }], () => {});
    const thrown = (fn) => { try { fn(); return ''; } catch (e) { return e.name; } };
    return { unknown: thrown(() => soFar(2e6)), small: thrown(() => soFar(5e5)), gpu: thrown(() => g.checkFitsGpu?.(64 * 1024 ** 3) ?? (() => { throw new Error(); })()) };
  }).catch((e) => ({ error: e.message }));
  check('cap: a download of unknown length stops at the quota', caps.unknown === 'QuotaExceededError' && caps.small === '', JSON.stringify(caps));
  check('cap: WebGPU models have a size limit', caps.gpu === 'ModelTooLargeError', JSON.stringify(caps));
  check('links: no page errors', errors.length === 0, errors.join('; '));
} finally {
  await browser.close();
  await host.close();
  await server.close();
}
done();
