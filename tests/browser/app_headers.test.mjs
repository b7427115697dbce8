// The headers the app is served with (issue 17, item 5), headless Chromium against `make serve`'s
// server: the Content-Security-Policy is a header on pages (with frame-ancestors 'none', so another
// site cannot frame the app; no 'wasm-unsafe-eval', only workers compile WebAssembly) and on the
// engine's worker scripts (whose connect-src keeps the engine's downloads to https and local hosts).
import http from 'node:http';
import { check, done } from '../lib.mjs';
import { serveApp, launch } from './app_helpers.mjs';

const server = await serveApp();
// Another site: a page that frames the app; and a host that no policy allows (plain http, not local
// by name), counting what reaches it.
let foreignHits = 0;
const other = http.createServer((req, res) => {
  if (req.url.startsWith('/frame')) {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    return res.end(`<!doctype html><iframe id="f" src="${server.url}/web/app/"></iframe>`);
  }
  if (req.url.startsWith('/m.gguf')) foreignHits++;
  res.writeHead(404, { 'Access-Control-Allow-Origin': '*' });
  res.end();
});
await new Promise((r) => other.listen(0, '0.0.0.0', r));
const port = other.address().port;
const browser = await launch();
try {
  const page = await fetch(`${server.url}/web/app/`);
  const pageCsp = page.headers.get('content-security-policy') || '';
  check('headers: the app page has a CSP header with frame-ancestors \'none\'', /frame-ancestors 'none'/.test(pageCsp), pageCsp);
  check('headers: the page policy does not allow WebAssembly compilation', pageCsp && !/wasm-unsafe-eval/.test(pageCsp), pageCsp);
  const worker = await fetch(`${server.url}/web/app/engine/engine_worker.mjs`);
  const workerCsp = worker.headers.get('content-security-policy') || '';
  check('headers: the engine worker script has its own CSP header', /connect-src 'self' https: /.test(workerCsp) && /wasm-unsafe-eval/.test(workerCsp), workerCsp);

  const ctx = await browser.newContext();
  const framer = await ctx.newPage();
  await framer.goto(`http://127.0.0.2:${port}/frame`);
  await framer.waitForTimeout(1500);
  const framed = framer.frames().find((f) => f !== framer.mainFrame());
  const loaded = framed ? await framed.evaluate(() => document.documentElement.dataset.appReady || '').catch(() => '') : '';
  check('headers: another site cannot frame the app', loaded !== '1', `the framed app started (${framed?.url()})`);

  // The engine's worker asked for a model on a host outside connect-src: no request leaves.
  const app = await ctx.newPage();
  await app.goto(`${server.url}/web/app/`);
  await app.waitForSelector('html[data-app-ready="1"]', { timeout: 60000 });
  await app.fill('[data-testid="model-url"]', `http://127.0.0.2:${port}/m.gguf`);
  await app.click('#load-model');
  await app.waitForFunction(() => document.querySelector('[data-testid="model-status"]').textContent === 'error', null, { timeout: 60000 }).catch(() => {});
  check('headers: the engine worker cannot fetch from a host its policy does not allow', foreignHits === 0, `${foreignHits} requests reached it`);
} finally {
  await browser.close();
  await server.close();
  other.close();
}
done();
