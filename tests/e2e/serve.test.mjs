// The dev/test server (web/serve.mjs) over real HTTP: cross-origin isolation
// headers and MIME types, byte ranges checked against the file's bytes,
// If-Range, 416, HEAD, refused paths (traversal, encoded traversal, NUL,
// unknown prefixes, symlinks out of a mount, dotfiles, files the app does not
// load), what the app and the test pages load still served, and the test
// hooks (cut once, then 503; request log).
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../web/serve.mjs';
import { check, done } from '../lib.mjs';
import { ROOT, SHARED } from './util.mjs';

const server = await startServer();
const get = (p, headers = {}, method = 'GET') => fetch(server.url + p, { headers, method });
const bytes = async (r) => Buffer.from(await r.arrayBuffer());
// The path exactly as written (fetch would normalize ../ and %2e%2e away): the status code.
const rawStatus = (p) => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port: server.port, path: p }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
});
// A raw request line and Host header, as a hostile client sends them: the status code.
const rawRequest = (target, host) => new Promise((resolve, reject) => {
  const sock = net.connect(server.port, '127.0.0.1', () => sock.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
  let out = '';
  sock.on('data', (d) => { out += d; });
  sock.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0)));
  sock.on('error', reject);
});
try {
  check(`bound to 127.0.0.1 (${server.url})`, new URL(server.url).hostname === '127.0.0.1');
  check('an absolute-form target that is no URL: 400, and the server lives on',
    await rawRequest('http://[', `127.0.0.1:${server.port}`) === 400 && (await get('/web/client.mjs', {}, 'HEAD')).status === 200);
  check('a Host other than 127.0.0.1/localhost (DNS rebinding): 421',
    await rawRequest('/web/client.mjs', `evil.example:${server.port}`) === 421 && await rawRequest('/web/client.mjs', `localhost:${server.port}`) === 200);
  for (const [p, type] of [['/web/client.mjs', 'text/javascript'], ['/web/dist/hearth.wasm', 'application/wasm'],
    ['/shared/models/stories260K.gguf', 'application/octet-stream'], ['/tests/browser/engine.html', 'text/html']]) {
    if (!fs.existsSync(path.join(ROOT, p.replace('/shared/', '../shared/')))) continue;
    const r = await get(p, {}, 'HEAD');
    check(`${p}: 200, ${type}, COOP same-origin, COEP require-corp, Accept-Ranges`, r.status === 200 &&
      r.headers.get('content-type').startsWith(type) && r.headers.get('cross-origin-opener-policy') === 'same-origin' &&
      r.headers.get('cross-origin-embedder-policy') === 'require-corp' && r.headers.get('accept-ranges') === 'bytes',
    `${r.status} ${[...r.headers].join(' ')}`);
  }
  const model = '/shared/models/stories260K.gguf';
  const file = fs.readFileSync(path.join(SHARED, 'models/stories260K.gguf'));
  const whole = await get(model);
  check('GET returns the whole file', whole.status === 200 && (await bytes(whole)).equals(file));
  for (const [range, start, end] of [['bytes=0-9', 0, 9], ['bytes=1000-', 1000, file.length - 1], ['bytes=-100', file.length - 100, file.length - 1],
    [`bytes=${file.length - 5}-${file.length + 100}`, file.length - 5, file.length - 1]]) {
    const r = await get(model, { Range: range });
    const body = await bytes(r);
    check(`Range ${range}: 206 with bytes ${start}-${end} of the file`, r.status === 206 &&
      r.headers.get('content-range') === `bytes ${start}-${end}/${file.length}` && body.equals(file.subarray(start, end + 1)),
    `${r.status} ${r.headers.get('content-range')} ${body.length}`);
  }
  const past = await get(model, { Range: `bytes=${file.length}-` });
  check('a range past the end: 416 with the size', past.status === 416 && past.headers.get('content-range') === `bytes */${file.length}`);
  const etag = whole.headers.get('etag');
  const same = await get(model, { Range: 'bytes=10-19', 'If-Range': etag });
  const changed = await get(model, { Range: 'bytes=10-19', 'If-Range': '"something-else"' });
  check('If-Range: the range when the ETag matches, the whole file when not', same.status === 206 && changed.status === 200 &&
    (await bytes(changed)).length === file.length);
  const multi = await get(model, { Range: 'bytes=0-1,5-6' });
  check('several ranges: the whole file (allowed by RFC 9110)', multi.status === 200 && (await bytes(multi)).length === file.length);
  for (const p of ['/web/../README.md', '/web/%2e%2e/README.md', '/web/%2e%2e%2f%2e%2e%2fetc/passwd', '/web/client.mjs%00.txt', '/README.md',
    '/build/../../etc/passwd', '/web/%E0%A4%A.mjs']) {
    const status = await rawStatus(p);
    check(`${p}: refused (404)`, status === 404, String(status));
  }
  // What the app (its page, modules, service worker, and the engine make app copies, engine/files.txt), the
  // engine's test page and its models load: still served. Checked where the build made them.
  const appEngine = path.join(ROOT, 'web/app/engine/files.txt');
  const engineFiles = fs.existsSync(appEngine) ? fs.readFileSync(appEngine, 'utf8').split('\n').filter(Boolean).map((f) => `/web/app/${f}`) : [];
  const models = fs.existsSync(path.join(ROOT, 'build/models')) ? fs.readdirSync(path.join(ROOT, 'build/models')).filter((f) => f.endsWith('.gguf')) : [];
  const needed = ['/web/app/', '/web/app/index.html', '/web/app/app.mjs', '/web/app/sw.js', '/web/app/presets.json', '/web/app/vendor/marked.esm.js',
    '/web/client.mjs', '/web/engine_worker.mjs', '/web/dist/hearth-mt.wasm', '/web/gpu/backend.mjs', '/tests/browser/engine.html',
    '/tests/browser/engine_page.mjs', ...models.slice(0, 1).map((f) => `/build/models/${f}`), ...engineFiles]
    .filter((p) => fs.existsSync(path.join(ROOT, p)));
  const missing = [];
  for (const p of needed) if (await rawStatus(p) !== 200) missing.push(p);
  check(`what the app and the test pages load is served (${needed.length} paths)`, missing.length === 0, missing.join(' '));
  // Dotfiles, other build output, sources, package files and node_modules: not served. Checked where they exist.
  for (const p of ['/web/app/.gitignore', '/build/hearth', '/build/libhearth.a', '/web/package.json', '/web/package-lock.json', '/web/client.d.ts',
    '/web/wasm/exports.c', '/web/gpu/gpu_wasm.c', '/web/node_modules/marked/package.json', '/web/node_modules/.package-lock.json']) {
    if (!fs.existsSync(path.join(ROOT, p))) continue;
    const status = await rawStatus(p);
    check(`${p}: not served (404)`, status === 404, String(status));
  }
  check('the same raw requests reach files inside a mount (/web/./client.mjs, /web/dist/../client.mjs)',
    await rawStatus('/web/./client.mjs') === 200 && await rawStatus('/web/dist/../client.mjs') === 200);
  check('POST: 405', (await get('/web/client.mjs', {}, 'POST')).status === 405);
  check('/ redirects to the app or web/', [301, 302].includes((await fetch(`${server.url}/`, { redirect: 'manual' })).status));
  // Hooks: cut once (half the bytes, then the connection drops), then 503 twice, then normal again.
  server.resetCounts();
  server.cutOnce(model, 2);
  let cutBytes = 0, cutError = null;
  try {
    const r = await get(model);
    const reader = r.body.getReader();
    for (;;) { const { done: d, value } = await reader.read(); if (d) break; cutBytes += value.length; }
  } catch (e) { cutError = e; }
  check(`cutOnce: the body stops halfway (${cutBytes} of ${file.length}) with a dropped connection`,
    cutError !== null && cutBytes === Math.floor(file.length / 2), String(cutError));
  const s1 = (await get(model)).status, s2 = (await get(model)).status, s3 = await get(model);
  check('then 503 twice, then the file again', s1 === 503 && s2 === 503 && s3.status === 200 && (await bytes(s3)).equals(file), `${s1} ${s2} ${s3.status}`);
  check('the request log counts them', server.requests(model) === 4 && server.requestLog(model).map((l) => l.status).join() === '200,503,503,200',
    JSON.stringify(server.requestLog(model)));
} finally {
  await server.close();
}

// A mount of the test's own: symlinks that lead out of it and dotfiles are refused, links within it work.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-serve-'));
const mount = path.join(tmp, 'served');
fs.mkdirSync(path.join(mount, '.git'), { recursive: true });
fs.mkdirSync(path.join(tmp, 'outside'));
fs.writeFileSync(path.join(tmp, 'outside/secret.txt'), 'secret\n');
fs.writeFileSync(path.join(mount, 'ok.txt'), 'ok\n');
fs.writeFileSync(path.join(mount, '.env'), 'TOKEN=secret\n');
fs.writeFileSync(path.join(mount, '.git/config'), '[core]\n');
fs.symlinkSync('ok.txt', path.join(mount, 'inside-link.txt'));
fs.symlinkSync('../outside/secret.txt', path.join(mount, 'escape.txt'));
fs.symlinkSync('../outside', path.join(mount, 'escape-dir'));
const own = await startServer({ mounts: { '/m/': mount } });
try {
  const status = async (p) => (await fetch(own.url + p)).status;
  check('own mount: a file and a symlink to a file inside the mount are served', await status('/m/ok.txt') === 200 && await status('/m/inside-link.txt') === 200);
  for (const p of ['/m/escape.txt', '/m/escape-dir/secret.txt', '/m/.env', '/m/.git/config']) {
    const st = await status(p);
    check(`own mount: ${p} refused (403/404)`, st === 403 || st === 404, String(st));
  }
} finally {
  await own.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
done();
