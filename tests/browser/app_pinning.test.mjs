// Presets and Hugging Face links pinned to a commit and checked against the published SHA-256
// (issue 17, item 8), headless Chromium with huggingface.co played by a local server (the browser
// context routes https://huggingface.co/** to it: the hub's API answered here, files served by
// app_model_server.mjs): a preset with the right sha256 loads from resolve/<revision>/; a wrong
// sha256 is refused and its bytes deleted; a resolve/main link is pinned through the API to
// resolve/<commit>/ and checked (a wrong SHA-256 from the hub refused too); with the API unreachable
// the download proceeds, marked unverified; a resumed download hashes the bytes it already had.
// Node side: the streaming SHA-256 equals sha256sum for a many-chunk file and a resumed one, and
// tools/pin_presets.mjs fills presets from a local fake API.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WAIT_MS } from './browser_util.mjs';
import { check, done } from '../lib.mjs';
import { ROOT, testModel } from '../e2e/util.mjs';
import { serveApp, launch } from './app_helpers.mjs';
import { startModelServer } from './app_model_server.mjs';

const TID = (id) => `[data-testid="${id}"]`;
const model = testModel(['--arch', 'qwen2', '--type', 'q8_0', '--tokenizer', 'qwen3'], 'chat-qwen2-qwen3-q8_0');
const SIZE = fs.statSync(model).size;
const sha256sum = (file) => spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.split(' ')[0];
const RIGHT = sha256sum(model);
const WRONG = crypto.createHash('sha256').update('not the model').digest('hex');
const REPO = 'test-org/tiny-GGUF';
const PINNED = 'a'.repeat(40), HEAD_COMMIT = 'b'.repeat(40);

// ---- Node: the streaming hash against sha256sum.
const hashModule = await import('../../web/store_hash.mjs').catch((e) => ({ error: e.message }));
if (check('the store\'s streaming SHA-256 (web/store_hash.mjs) loads', !hashModule.error, hashModule.error)) {
  const { partHash } = hashModule;
  const chunks = [];
  const fd = fs.openSync(model, 'r');
  for (let pos = 0, n = 1; pos < SIZE; pos += n, n = (n * 7 + 13) % 100003 + 1) {
    const buf = Buffer.alloc(Math.min(n, SIZE - pos));
    fs.readSync(fd, buf, 0, buf.length, pos);
    chunks.push(buf);
  }
  fs.closeSync(fd);
  const h = partHash({ name: 'm.gguf', sha256: RIGHT });
  for (const c of chunks) h.add(c);
  check(`streaming SHA-256 over ${chunks.length} chunks equals sha256sum`, (() => { try { return h.check() === RIGHT; } catch (e) { return e.message; } })() === true);
  // A resumed part: the first 40% read back from "storage" (in 4 MiB reads), the rest streamed.
  const bytes = fs.readFileSync(model), cut = Math.floor(SIZE * 0.4);
  const r = partHash({ name: 'm.gguf', sha256: RIGHT });
  r.addStored({ read: (at, dst) => dst.set(bytes.subarray(at, at + dst.length)) }, cut);
  for (let at = cut; at < SIZE; at += 65536) r.add(bytes.subarray(at, Math.min(SIZE, at + 65536)));
  check('streaming SHA-256 of a resumed part (stored bytes, then the rest) equals sha256sum', r.check() === RIGHT);
  const bad = partHash({ name: 'm.gguf', sha256: WRONG });
  bad.add(bytes);
  let msg = '';
  try { bad.check(); } catch (e) { msg = `${e.name}: ${e.message}`; }
  check('streaming SHA-256: a mismatch throws ModelIntegrityError naming both digests', /^ModelIntegrityError/.test(msg) && msg.includes(WRONG) && msg.includes(RIGHT), msg);
}

// ---- Node: hub URLs, built once and read back.
{
  const hf = await import('../../web/hf.mjs').catch((e) => ({ error: e.message }));
  if (check('web/hf.mjs loads', !hf.error, hf.error)) {
    const url = hf.hfFileUrl(REPO, PINNED, 'sub dir/a b.gguf');
    const back = hf.parseHfUrl(url);
    check('hub URL: built from repo, revision and file, read back the same', url === `https://huggingface.co/${REPO}/resolve/${PINNED}/sub%20dir/a%20b.gguf` &&
      back?.repo === REPO && back.revision === PINNED && back.file === 'sub dir/a b.gguf', `${url} ${JSON.stringify(back)}`);
    check('hub URL: another host, or a query other than ?download=true, is not a hub file', hf.parseHfUrl(url.replace('huggingface.co', 'huggingface.co.evil.example')) === null &&
      hf.parseHfUrl(`${url}?x=1`) === null && hf.parseHfUrl(`${url}?download=true`)?.file === 'sub dir/a b.gguf');
  }
}

// ---- Node: tools/pin_presets.mjs against a fake hub API.
{
  const api = http.createServer((req, res) => {
    const m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/?]+)\?blobs=true$/.exec(req.url);
    if (!m || m[1] !== REPO) { res.writeHead(404); return res.end('{}'); }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ id: REPO, sha: HEAD_COMMIT, siblings: [
      { rfilename: 'README.md', size: 10 },
      { rfilename: 'm.gguf', size: SIZE, lfs: { sha256: RIGHT, size: SIZE, pointerSize: 134 } },
    ] }));
  });
  await new Promise((r) => api.listen(0, '127.0.0.1', r));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-presets-'));
  const file = path.join(tmp, 'presets.json');
  const preset = (id, f) => ({ id, name: 'Tiny', quant: 'Q8_0', repo: REPO, file: f, size: 123, sizeApproximate: true, defaults: { temperature: 0.2 } });
  fs.writeFileSync(file, JSON.stringify({ about: 'x', presets: [preset('tiny', 'm.gguf')] }));
  // (spawned, not spawnSync: the fake API answers from this process's event loop)
  const run = () => new Promise((resolve) => {
    const c = spawn('node', [path.join(ROOT, 'tools/pin_presets.mjs'), '--file', file, '--api-base', `http://127.0.0.1:${api.address().port}`]);
    let stderr = '';
    c.stderr.on('data', (d) => { stderr += d; });
    c.on('close', (status) => resolve({ status, stderr }));
  });
  let r = await run();
  const got = JSON.parse(fs.readFileSync(file, 'utf8')).presets[0];
  check('pin_presets: fills revision, sha256 and the exact size from the API', r.status === 0 && got.revision === HEAD_COMMIT &&
    got.sha256 === RIGHT && got.size === SIZE && !('sizeApproximate' in got) && got.defaults.temperature === 0.2, `${r.stderr} ${JSON.stringify(got)}`);
  fs.writeFileSync(file, JSON.stringify({ about: 'x', presets: [preset('missing', 'nope.gguf')] }));
  r = await run();
  check('pin_presets: a file the repository lacks fails, naming it', r.status !== 0 && /nope\.gguf/.test(r.stderr), `${r.status} ${r.stderr}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  api.close();
}

// ---- The app, with huggingface.co played by a local server.
const server = await serveApp();
const files = {};
for (const rev of ['main', PINNED, HEAD_COMMIT]) files[`/${REPO}/resolve/${rev}/m.gguf`] = model;
for (const rev of ['main', PINNED]) files[`/${REPO}/resolve/${rev}/w.gguf`] = model;
const host = await startModelServer(files);
const browser = await launch();
const hfUrl = (rev, f = 'm.gguf') => `https://huggingface.co/${REPO}/resolve/${rev}/${f}`;

// What the fake hub answers: api (null: unreachable) and the requests it saw.
const hub = { api: null, seen: [] };
const heads = []; // HEAD requests to hub file URLs (the app asks the API for sizes instead)
const apiAnswer = (sha256, sha = HEAD_COMMIT) => ({ id: REPO, sha, siblings: [{ rfilename: 'm.gguf', size: SIZE, lfs: { sha256, size: SIZE, pointerSize: 134 } }] });
const presetEntry = (id, f, sha256) => ({
  id, name: `Tiny ${id}`, quant: 'Q8_0', repo: REPO, file: f, revision: PINNED, sha256, size: SIZE,
  urls: [hfUrl(PINNED, f)], // (as presets.json had it before repo/file: the test runs on that app too)
  defaults: { temperature: 0 },
});
const PRESETS = { about: 'test', presets: [presetEntry('right', 'm.gguf', RIGHT), presetEntry('wrong', 'w.gguf', WRONG)] };
const IN_PAGE_HELPERS = `
  window.__dir = async (name, create = false) => (await (await navigator.storage.getDirectory()).getDirectoryHandle('hearth-models', { create: true })).getDirectoryHandle(name, { create });
  window.__key = async (id) => (await import('/web/app/engine/store.mjs')).modelKey(id);
  window.__has = async (id) => { try { await window.__dir(await window.__key(id)); return true; } catch { return false; } };
`;

async function newContext() {
  const context = await browser.newContext();
  await context.addInitScript(IN_PAGE_HELPERS);
  await context.route('**/web/app/presets.json', (route) => route.fulfill({ json: PRESETS }));
  await context.route('https://huggingface.co/**', async (route) => {
    const u = new URL(route.request().url());
    if (route.request().method() === 'GET') hub.seen.push(u.pathname);
    if (route.request().method() === 'HEAD') heads.push(u.pathname);
    if (u.pathname.startsWith('/api/')) {
      if (!hub.api) return route.abort('internetdisconnected');
      return route.fulfill({ status: 200, json: hub.api, headers: { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' } });
    }
    return route.fulfill({ response: await route.fetch({ url: `${host.url}${u.pathname}` }) });
  });
  const page = await context.newPage();
  await page.goto(`${server.url}/web/app/`);
  await page.waitForSelector('html[data-app-ready="1"]', { timeout: 60000 });
  return { context, page };
}
async function settled(page) {
  await page.waitForFunction((sel) => ['ready', 'error'].includes(document.querySelector(sel).textContent), TID('model-status'), { timeout: WAIT_MS }).catch(() => {});
  return page.textContent(TID('model-status'));
}
const info = (page) => page.textContent('#backend-info');
const loadError = (page) => page.textContent('#load-error');
async function loadTyped(page, url) {
  await page.fill(TID('model-url'), url);
  await page.click(TID('load-model'));
}
async function loadPreset(page, id) {
  await page.click(`#presets li:has-text("Tiny ${id}") ${TID('preset-load')}`);
}

try {
  // A preset pinned to a revision with the right sha256: fetched from resolve/<revision>/, no API call, checked.
  {
    hub.seen.length = 0;
    hub.api = apiAnswer(RIGHT);
    const { context, page } = await newContext();
    await loadPreset(page, 'right');
    const s = await settled(page);
    check('preset, right sha256: loads', s === 'ready', `${s}: ${await loadError(page)}`);
    check('preset, right sha256: fetched from resolve/<revision>/', hub.seen.includes(`/${REPO}/resolve/${PINNED}/m.gguf`) && !hub.seen.some((p) => p.includes('/resolve/main/')), JSON.stringify(hub.seen));
    const t = await info(page);
    check('preset, right sha256: the page says the bytes were checked', /checked against the published SHA-256/.test(t), t);

    // The same app, a preset whose sha256 is wrong: refused, its bytes deleted, a clear message.
    await page.click(TID('change-model'));
    await loadPreset(page, 'wrong');
    const s2 = await settled(page);
    const err = await loadError(page);
    check('preset, wrong sha256: refused', s2 === 'error' && /not the published model file/i.test(err) && err.includes(WRONG), `${s2}: ${err}`);
    const kept = await page.evaluate((id) => window.__has(id), hfUrl(PINNED, 'w.gguf'));
    check('preset, wrong sha256: its bytes are deleted', kept === false, 'the model directory is still in OPFS');
    await context.close();
  }

  // A resolve/main link: the API pins it to the commit it names; the bytes are fetched from there and checked.
  {
    hub.seen.length = 0;
    hub.api = apiAnswer(RIGHT);
    const { context, page } = await newContext();
    await loadTyped(page, hfUrl('main'));
    const s = await settled(page);
    check('hub link: loads', s === 'ready', `${s}: ${await loadError(page)}`);
    check('hub link: the API is asked about main', hub.seen.includes(`/api/models/${REPO}/revision/main`), JSON.stringify(hub.seen));
    const shown = await page.textContent('#url-info');
    check('hub link: the size the API publishes is shown before the download', shown.includes('to download and store') && heads.length === 0, `${shown} HEAD requests: ${JSON.stringify(heads)}`);
    check('hub link: the file comes from resolve/<commit>/, never resolve/main/', hub.seen.includes(`/${REPO}/resolve/${HEAD_COMMIT}/m.gguf`) &&
      !hub.seen.includes(`/${REPO}/resolve/main/m.gguf`), JSON.stringify(hub.seen));
    const t = await info(page);
    check('hub link: checked against the SHA-256 the hub publishes, commit shown', /checked against the published SHA-256/.test(t) && t.includes(HEAD_COMMIT.slice(0, 12)), t);
    await context.close();
  }

  // The hub publishes another SHA-256 than the bytes have: refused and deleted.
  {
    hub.api = apiAnswer(WRONG);
    const { context, page } = await newContext();
    await loadTyped(page, hfUrl('main'));
    const s = await settled(page);
    const err = await loadError(page);
    check('hub link, bytes differ from the hub\'s SHA-256: refused', s === 'error' && /not the published model file/i.test(err), `${s}: ${err}`);
    check('hub link, bytes differ: deleted', await page.evaluate((id) => window.__has(id), hfUrl('main')) === false, 'still stored');
    await context.close();
  }

  // The hub publishes another size than the server sends: refused before the body is read.
  {
    hub.api = apiAnswer(RIGHT);
    hub.api.siblings[0].lfs.size = SIZE + 1;
    const before = host.ranges().length;
    const { context, page } = await newContext();
    await loadTyped(page, hfUrl('main'));
    const s = await settled(page);
    const err = await loadError(page);
    check('hub link, size differs from the published one: refused, nothing kept', s === 'error' && /published with/.test(err) &&
      await page.evaluate((id) => window.__has(id), hfUrl('main')) === false, `${s}: ${err}`);
    check('hub link, size differs: one request, no body stored', host.ranges().length - before <= 1, JSON.stringify(host.ranges().slice(before)));
    await context.close();
  }

  // The API unreachable: the download goes on from the URL as given, marked unverified.
  {
    hub.seen.length = 0;
    hub.api = null;
    const { context, page } = await newContext();
    await loadTyped(page, hfUrl('main'));
    const s = await settled(page);
    check('API unreachable: the model still loads', s === 'ready', `${s}: ${await loadError(page)}`);
    check('API unreachable: fetched from the URL as given', hub.seen.includes(`/${REPO}/resolve/main/m.gguf`), JSON.stringify(hub.seen));
    const t = await info(page);
    check('API unreachable: the page says the model is unverified', /unverified/.test(t) && /could not be reached/.test(t), t);
    await context.close();
  }

  // A resumed download: 40% stored by an earlier visit (pinned then), the rest fetched with Range;
  // the SHA-256 must cover the stored bytes too: with one of them flipped the file is refused.
  for (const corrupt of [false, true]) {
    const what = corrupt ? 'resumed download, a stored byte damaged' : 'resumed download';
    hub.seen.length = 0;
    hub.api = apiAnswer(RIGHT, 'c'.repeat(40)); // main has moved on since the download began
    const { context, page } = await newContext();
    const cut = Math.floor(SIZE * 0.4);
    const before = host.ranges().length;
    await page.evaluate(async ({ id, bytes, cut, meta, corrupt }) => {
      const dir = await window.__dir(await window.__key(id), true);
      const put = async (name, data) => {
        const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
        await w.write(data);
        await w.close();
      };
      const head = new Uint8Array((await (await fetch(bytes)).arrayBuffer()).slice(0, cut));
      if (corrupt) head[cut - 1000] ^= 1; // past the header: only the hash can tell
      await put('part-1.gguf', head);
      await put('meta-1.json', JSON.stringify(meta));
    }, {
      id: hfUrl('main'), bytes: `${server.url}/build/models/${path.basename(model)}`, cut, corrupt,
      meta: { id: hfUrl('main'), urls: [hfUrl('main')], seq: 1, complete: false, createdAt: Date.now(), files: [{
        name: 'm.gguf', url: hfUrl('main'), size: SIZE, etag: `"${SIZE.toString(16)}"`, src: hfUrl(HEAD_COMMIT), sha256: RIGHT,
        expectSize: SIZE, pin: { commit: HEAD_COMMIT, checked: true } }] },
    });
    await loadTyped(page, hfUrl('main'));
    const s = await settled(page);
    const ranges = host.ranges().slice(before);
    check(`${what}: only the missing bytes were fetched, from the commit it began with`, ranges.includes(`bytes=${cut}-`) && !ranges.includes('') &&
      hub.seen.includes(`/${REPO}/resolve/${HEAD_COMMIT}/m.gguf`) && hub.seen.filter((p) => p.includes('/resolve/')).length === 1, `${JSON.stringify(ranges)} ${JSON.stringify(hub.seen)}`);
    if (!corrupt) {
      const t = await info(page);
      check(`${what}: loads, the stored bytes and the rest hashing to the published SHA-256`, s === 'ready' && /checked against the published SHA-256/.test(t), `${s}: ${await loadError(page)} ${t}`);
    } else {
      const err = await loadError(page);
      check(`${what}: refused (the hash covers the bytes stored before) and deleted`, s === 'error' && /not the published model file/i.test(err) &&
        await page.evaluate((id) => window.__has(id), hfUrl('main')) === false, `${s}: ${err}`);
    }
    await context.close();
  }
} finally {
  await browser.close();
  await host.close();
  await server.close();
  done();
}
