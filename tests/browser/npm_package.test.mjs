// The npm package (issue 22; docs/npm.md), as a user gets it: tools/make_npm.mjs packs it with
// `npm pack`; the tarball is installed into a copy of the scratch app tests/npm_app (React +
// TypeScript + Vite, pinned by its package-lock.json, npm's cache filled by tools/setup.sh); its
// types compile under `tsc --strict`; `vite build` bundles it with no configuration for hearth;
// the build, served with COOP/COEP and then without, streams in headless Chromium the answer of
// `build/hearth chat --temperature 0` on stories260K (threads, then one thread that info() names,
// then with locateFile taking the engine's files from another origin); so do the build as a
// Chrome extension's page and the app under Vite's dev server; a Node script importing the
// installed package answers the same.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../web/serve.mjs';
import { check, done } from '../lib.mjs';
import { hearth, ROOT, SHARED } from '../e2e/util.mjs';
import { launchBrowser, pageErrors, WAIT_MS } from './browser_util.mjs';

const MODEL = path.join(SHARED, 'models/stories260K.gguf');
const PROMPT = 'Once upon a time';
const MAX_TOKENS = 40;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-npm-'));
let browser = null;
// A fresh page of the one browser, with its errors collected.
async function newPage() {
  browser ??= await launchBrowser();
  const page = await browser.context.newPage();
  return { page, errors: pageErrors(page) };
}
// Waits for the app to finish (status done or error); {status, answer, info} of the page.
async function appResult(page) {
  await page.waitForFunction(() => /^(done|error)/.test(document.querySelector('[data-testid="status"]')?.textContent || ''));
  return page.evaluate(() => {
    const text = (id) => document.querySelector(`[data-testid="${id}"]`).textContent;
    return { status: text('status'), answer: text('answer'), info: JSON.parse(text('info') || 'null') };
  });
}
const app = path.join(tmp, 'app');

// Runs a command to its end; {status, out} with stdout and stderr together.
function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26, timeout: WAIT_MS });
  return { status: r.status, out: `${r.stdout || ''}${r.stderr || ''}${r.error ? r.error.message : ''}` };
}
// The build's workers and wasm requested from a server (paths).
const assetsRequested = (server) => fs.readdirSync(path.join(app, 'dist/assets')).filter((f) => /(worker|hearth).*\.(js|wasm)$/.test(f))
  .filter((f) => server.requests(`/assets/${f}`) > 0);
const freePort = () => new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});
// "# what: N s" since the previous mark, for the log.
let lastMark = Date.now();
const mark = (what) => { console.log(`# ${what}: ${((Date.now() - lastMark) / 1000).toFixed(1)} s`); lastMark = Date.now(); };
const tail = (s) => s.trim().split('\n').slice(-15).join('\n');

try {
  // 1. The package, packed.
  let r = run('node', [path.join(ROOT, 'tools/make_npm.mjs'), '--out', tmp], ROOT);
  if (!check('make_npm packs the package (npm pack)', r.status === 0, tail(r.out))) throw new Error('cannot go on');
  console.log(`# ${r.out.trim()}`);
  const tarball = path.join(tmp, fs.readdirSync(tmp).find((f) => f.endsWith('.tgz')));
  const listing = run('tar', ['tzf', tarball]).out.trim().split('\n').map((f) => f.replace(/^package\//, ''));
  const wasm = listing.filter((f) => f.startsWith('dist/') && f.endsWith('.wasm'));
  // (vendor/: the model store's SHA-256, @noble/hashes, its modules and LICENSE)
  const unexpected = listing.filter((f) => !/^([\w-]+\.mjs|gpu\/[\w-]+\.mjs|dist\/[\w-]+\.wasm|vendor\/[\w-]+\/([\w-]+\.js|LICENSE)|client\.d\.ts|package\.json|README\.md)$/.test(f) ||
    /^(cli|bench|serve)\.mjs$/.test(f));
  check(`the package holds the modules, types, README, the vendored hash and the ${wasm.length} wasm builds, nothing else (${listing.length} files)`,
    wasm.length === 4 && !unexpected.length && listing.includes('client.d.ts') && listing.includes('engine_worker.mjs') &&
    listing.includes('thread_worker.mjs'), `unexpected: ${unexpected.join(', ')}; wasm: ${wasm.join(', ')}`);
  const packed = fs.statSync(tarball).size;
  check(`the tarball stays small (${(packed / 1e6).toFixed(2)} MB, under 2.5 MB)`, packed < 2.5e6);

  mark('pack');
  // 2. Installed into the scratch app (a copy, so that the pinned manifest stays as it is).
  const src = path.join(ROOT, 'tests/npm_app');
  fs.cpSync(src, app, { recursive: true, filter: (f) => !/[/\\](node_modules|dist)$/.test(f) });
  // What tools/setup.sh installed there (npm ci): npm then adds only the package (else it installs it all from its cache).
  if (fs.existsSync(path.join(src, 'node_modules'))) {
    fs.cpSync(path.join(src, 'node_modules'), path.join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  }
  r = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', tarball], app);
  if (!check('npm install of the tarball into the React + TypeScript + Vite app', r.status === 0, tail(r.out))) throw new Error('cannot go on');
  const bin = (name) => path.join(app, 'node_modules/.bin', name);
  mark('npm install');
  r = run(bin('tsc'), ['-p', '.', '--strict', '--noEmit'], app);
  check('the package\'s types compile under tsc --strict in the app', r.status === 0, tail(r.out));
  mark('tsc');
  r = run(bin('vite'), ['build'], app);
  check('vite build bundles the app with the package, no configuration for it and no warning', r.status === 0 &&
    !/warn|externalized|\[plugin/i.test(r.out), tail(r.out));
  mark('vite build');
  const assets = fs.existsSync(path.join(app, 'dist/assets')) ? fs.readdirSync(path.join(app, 'dist/assets')) : [];
  check('the build holds the engine worker, the compute thread worker and the four wasm builds, fingerprinted',
    ['engine_worker-', 'thread_worker-'].every((p) => assets.some((a) => a.startsWith(p) && a.endsWith('.js'))) &&
    ['hearth-', 'hearth-mt-', 'hearth-relaxed-', 'hearth-relaxed-mt-'].every((p) => assets.some((a) => a.startsWith(p) && /^[\w-]+-[\w-]{8}\.wasm$/.test(a))),
    assets.join(', '));

  // 3. The reference: the native CLI's greedy chat turn.
  const cli = hearth(['chat', '--model', MODEL, '--temperature', '0', '--max-tokens', String(MAX_TOKENS), '--json', '--message', PROMPT]);
  const want = JSON.parse(cli.stdout).turns[0].assistant;

  // 4. The build in Chromium: with COOP/COEP (threads), without (one thread), and with locateFile
  // taking the engine's files from another origin (the package's folder as a CDN serves it).
  const mounts = { '/': path.join(app, 'dist'), '/shared/models/': { dir: path.join(SHARED, 'models'), only: /\.gguf$/ },
    '/cdn/hearth-llm/': path.join(app, 'node_modules/hearth-llm') };
  const query = `?model=/shared/models/stories260K.gguf&prompt=${encodeURIComponent(PROMPT)}&max_tokens=${MAX_TOKENS}`;
  for (const how of ['with COOP/COEP', 'without COOP/COEP', 'locateFile, another origin']) {
    const isolated = how !== 'without COOP/COEP', cdn = how.startsWith('locateFile');
    // (the CDN run without the server's Content-Security-Policy, whose worker-src 'self' refuses the blob: worker
    // that starts a worker of another origin; a page using a CDN this way allows worker-src blob:)
    const server = await startServer({ mounts, isolated, cors: cdn, csp: !cdn });
    const { page, errors } = await newPage();
    try {
      // (localhost and 127.0.0.1: two origins of one server)
      const locate = cdn ? `&locate=${encodeURIComponent(`http://localhost:${server.port}/cdn/hearth-llm/`)}` : '';
      await page.goto(`${server.url}/index.html${query}${locate}`);
      const got = await appResult(page);
      check(`${how}: the Vite build streams the answer of build/hearth chat --temperature 0 (stories260K)`,
        got.status === 'done' && got.answer === want, `${JSON.stringify(got)} vs ${JSON.stringify(want)}\n${errors.join('\n')}`);
      if (!isolated) {
        // An error a user can act on, with its class and name through the minified build.
        await page.goto(`${server.url}/index.html?model=/shared/models/no-such-model.gguf`);
        const { status } = await appResult(page);
        check(`${how}: a missing model fails as ModelNotFoundError (name and class survive minifying)`,
          /^error: ModelNotFoundError: .*no-such-model/.test(status), status);
      }
      if (isolated) {
        check(`${how}: the page is cross-origin isolated and the engine runs ${got.info?.threads} threads`,
          got.info?.isolated === true && got.info.threadsNote === '' && (got.info.threads > 1 || os.availableParallelism() === 1), JSON.stringify(got.info));
      } else {
        check(`${how}: one thread, and engine.info().threadsNote says why`,
          got.info?.isolated === false && got.info.threads === 1 && /not cross-origin isolated/.test(got.info.threadsNote), JSON.stringify(got.info));
      }
      if (cdn) {
        const served = (p) => server.requestLog(p).some((e) => e.status === 200);
        const fromCdn = ['engine_worker.mjs', 'thread_worker.mjs'].filter((f) => served(`/cdn/hearth-llm/${f}`));
        const wasmCdn = ['hearth', 'hearth-mt', 'hearth-relaxed', 'hearth-relaxed-mt'].filter((f) => served(`/cdn/hearth-llm/dist/${f}.wasm`));
        const bundled = assetsRequested(server);
        check(`${how}: the workers (${fromCdn.join(', ')}) and the wasm (${wasmCdn.join(', ')}) came from there, none from the build`,
          fromCdn.length === 2 && wasmCdn.length === 1 && !bundled.length, `bundled files asked for: ${bundled.join(', ')}`);
      }
    } finally {
      await page.close();
      await server.close();
    }
  }

  mark('the build in Chromium, three ways');

  // 5. The build as a Chrome extension's page (tests/npm_app/extension/manifest.json: isolated, wasm allowed).
  {
    const ext = path.join(tmp, 'extension');
    fs.cpSync(path.join(app, 'dist'), ext, { recursive: true });
    fs.copyFileSync(path.join(src, 'extension/manifest.json'), path.join(ext, 'manifest.json'));
    // An unpacked extension's id: the first 32 hex digits of SHA-256 of its path, 0-f written a-p.
    const id = [...crypto.createHash('sha256').update(ext).digest('hex').slice(0, 32)].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');
    const server = await startServer({ mounts, cors: true });
    const extBrowser = await launchBrowser({ args: [`--disable-extensions-except=${ext}`, `--load-extension=${ext}`] });
    try {
      const page = await extBrowser.context.newPage();
      const errors = pageErrors(page);
      await page.goto(`chrome-extension://${id}/index.html${query.replace('/shared/', `${server.url}/shared/`)}`);
      const got = await appResult(page);
      check(`a Chrome extension page: the same answer, cross-origin isolated by its manifest, ${got.info?.threads} threads`,
        got.status === 'done' && got.answer === want && got.info?.isolated === true && (got.info.threads > 1 || os.availableParallelism() === 1),
        `${JSON.stringify(got)}\n${errors.join('\n')}`);
    } finally {
      await extBrowser.close();
      await server.close();
    }
  }
  mark('a Chrome extension page');
  // 6. Vite's dev server (its dependency optimizer pre-bundles the package) answers too.
  fs.mkdirSync(path.join(app, 'public'));
  fs.symlinkSync(MODEL, path.join(app, 'public/stories260K.gguf'));
  const dev = spawn(bin('vite'), ['--host', '127.0.0.1', '--port', String(await freePort()), '--strictPort', '--clearScreen', 'false'],
    { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let log = '';
    const url = await new Promise((resolve) => {
      const seen = (d) => {
        log += d;
        const m = /Local:\s+(http:\/\/\S+?)\/?\s/.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
        if (m) resolve(m[1]);
      };
      dev.stdout.on('data', seen);
      dev.stderr.on('data', seen);
      dev.on('exit', () => resolve(null));
    });
    if (check('vite (the dev server) starts', url, log)) {
      const { page, errors } = await newPage();
      await page.goto(`${url}/${query.replace('/shared/models/', '/')}`);
      const got = await appResult(page);
      check('vite dev server: the app streams the same answer, with no configuration for the package',
        got.status === 'done' && got.answer === want, `${JSON.stringify(got)}\n${errors.join('\n')}\n${log}`);
      await page.close();
    }
  } finally { dev.kill(); }

  mark('the dev server in Chromium');
  // 7. Node: a script importing the installed package (worker_threads): first without the npm package
  // webgpu ('auto' says to install it and runs on the CPU), then with it (tests/node_modules' copy linked in,
  // SwiftShader's Vulkan driver): the package finds it and WebGPU's own check turns stories260K down
  // (its widths are not multiples of 32), so the CPU answers and backendNote says why.
  const webgpuDir = path.join(ROOT, 'tests/node_modules/webgpu');
  for (const withWebgpu of [false, true]) {
    if (withWebgpu) {
      if (!fs.existsSync(webgpuDir)) { check('Node: tests/node_modules has the npm package webgpu (npm ci --prefix tests)', false); break; }
      fs.symlinkSync(webgpuDir, path.join(app, 'node_modules/webgpu'));
    }
    const rr = spawnSync('node', ['answer.mjs', MODEL, PROMPT, String(MAX_TOKENS)], { cwd: app, encoding: 'utf8', timeout: WAIT_MS,
      env: { ...process.env, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES || '/usr/lib/chromium/vk_swiftshader_icd.json' } });
    let node = null;
    try { node = JSON.parse(rr.stdout.trim().split('\n').at(-1)); } catch { /* reported below */ }
    const how = withWebgpu ? 'with the npm package webgpu' : 'without the npm package webgpu';
    check(`Node, ${how}: a script importing the installed package streams the same answer`, rr.status === 0 && node?.text === want,
      `${tail(`${rr.stdout}${rr.stderr}`)} vs ${JSON.stringify(want)}`);
    check(withWebgpu ? 'Node, with webgpu: backend auto found WebGPU, which turned the model down; backendNote says why'
      : 'Node, without webgpu: backend auto runs on the CPU and backendNote says to npm install webgpu',
    node?.backend === 'cpu' && (withWebgpu ? /WebGPU could not load this model: the GPU backend needs/ : /npm install webgpu/).test(node.backendNote),
    JSON.stringify(node));
  }
  mark('Node');
} catch (e) {
  if (e.message !== 'cannot go on') check('the npm package test ran to its end', false, e.stack);
} finally {
  await browser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
done();
