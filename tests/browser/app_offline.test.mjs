// The service worker across an update (issue 17, item 10), headless Chromium: the app, installed
// offline-ready from a copy of web/app/, gets a new version (two of its modules change); the page
// fetches one of them online, and the network goes at once. Offline, the app's files must all come
// from one version, never the new module beside the old one, and the app must still start.
import fs from 'node:fs';
import path from 'node:path';
import { check, done } from '../lib.mjs';
import { BUILD, ROOT } from '../e2e/util.mjs';
import { startServer } from '../../web/serve.mjs';
import { serveApp, launch } from './app_helpers.mjs';

(await serveApp()).close(); // make app: web/app/engine and vendor in place
const copy = path.join(BUILD, 'sw-update-app');
fs.rmSync(copy, { recursive: true, force: true });
fs.cpSync(path.join(ROOT, 'web/app'), copy, { recursive: true, dereference: true });
// Polls fn in the page (async: waitForFunction would take its promise for a truthy answer) until it
// answers truthy or ms pass.
async function until(page, fn, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await page.waitForTimeout(250)) if (await page.evaluate(fn).catch(() => false)) return true;
  return false;
}
const server = await startServer({ port: 0, mounts: { '/web/app/': copy } });
const browser = await launch();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/web/app/`);
  await page.waitForSelector('html[data-app-ready="1"]', { timeout: 60000 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  // Installed: an app cache holds the page's modules (and, where the worker keeps one, it is current).
  await until(page, async () => {
    const index = (await caches.keys()).includes('hearth-sw-index') && await (await caches.open('hearth-sw-index')).match('current');
    for (const k of await caches.keys()) if (k.startsWith('hearth-app-') && await (await caches.open(k)).match('app.mjs') && (index || k === 'hearth-app-v1')) return true;
    return false;
  }, 60000);

  const version = (n) => { for (const f of ['app.mjs', 'format.mjs']) fs.appendFileSync(path.join(copy, f), `\n// version ${n}\n`); };
  const served = () => page.evaluate(async () => {
    const v = async (f) => Number(/\/\/ version (\d+)\n$/.exec(await (await fetch(f)).text())?.[1] || 1);
    return { app: await v('app.mjs'), format: await v('format.mjs') };
  }).catch((e) => ({ error: e.message }));

  // A new version on the server: the page's next fetch finds the change, and the version is kept whole.
  version(2);
  await page.evaluate(() => fetch('format.mjs').then((r) => r.text()));
  await until(page, async () => {
    for (const k of await caches.keys()) {
      const hit = k.startsWith('hearth-app-') && await (await caches.open(k)).match('app.mjs');
      if (hit && (await hit.text()).includes('// version 2')) return true;
    }
    return false;
  }, 20000);

  // Another version; the page fetches one changed module online, and the network goes at once.
  version(3);
  await page.evaluate(() => fetch('format.mjs').then((r) => r.text()));
  await context.setOffline(true);
  await page.waitForTimeout(1500);
  const off = await served();
  check('an update cut off by going offline: the app\'s files come from one version', off.app && off.app === off.format, JSON.stringify(off));
  check('... the last version kept whole (2), not the first', off.app >= 2, JSON.stringify(off));
  await page.reload();
  const started = await page.waitForSelector('html[data-app-ready="1"]', { timeout: 30000 }).then(() => true, () => false);
  check('offline after the update: the app starts', started, errors.join('; '));
  check('no page errors', errors.length === 0, errors.join('; '));
} finally {
  await browser.close();
  await server.close();
  fs.rmSync(copy, { recursive: true, force: true });
}
done();
