#!/usr/bin/env node
// The development and test server: static files with the headers a
// cross-origin-isolated page needs (COOP/COEP, so SharedArrayBuffer and wasm
// threads work), a Content-Security-Policy header on pages and scripts, the right MIME types, single-range requests (downloads resume
// with Range) and hooks for tests: cut a download off halfway once (and then
// answer 503 a few times), and log requests per path. Bound to 127.0.0.1; no framework.
//
//   node web/serve.mjs [--port 8080] [--cut-once /build/models/x.gguf]
//
// Mounts (URL prefix -> directory, and what it serves): /web/ -> web/ (the
// app, the engine's modules, web/dist/*.wasm, web/gpu/*.mjs), /tests/browser/
// -> tests/browser/ (test pages and their modules), /build/models/ and
// /shared/models/ -> GGUF files. Nothing else: no sources, package files,
// other build output or node_modules, no dotfile or dot folder (.git, .env)
// in any mount, and no file a symlink leads to outside its mount.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// A mount is a directory, or { dir, only }: only, a pattern on the path inside the mount ('a/b.mjs'),
// names the files it serves (a bare directory serves every file in it).
export const DEFAULT_MOUNTS = {
  '/web/': { dir: path.join(ROOT, 'web'), only: /^(app\/.+|[\w-]+\.mjs|dist\/[\w-]+\.wasm|gpu\/[\w-]+\.mjs|vendor\/[\w-]+\/[\w-]+\.js)$/ },
  '/tests/browser/': { dir: path.join(ROOT, 'tests/browser'), only: /^[\w-]+\.(html|mjs)$/ },
  '/build/models/': { dir: path.join(ROOT, 'build/models'), only: /\.gguf$/ },
  '/shared/models/': { dir: path.resolve(ROOT, '../shared/models'), only: /\.gguf$/ },
};

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.gguf': 'application/octet-stream', '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8', '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Every load must reach the server (or the model store), never the HTTP cache:
  // the tests count requests.
  'Cache-Control': 'no-store',
};

// Content-Security-Policy as a response header (a meta tag covers neither workers nor framing).
// Model URLs are whatever a user picks: https, or a local server while developing.
const MODEL_HOSTS = "https: http://127.0.0.1:* http://localhost:*";
// Pages: this origin's scripts, styles and workers, no framing by any site; no WebAssembly (only the
// engine's workers compile it).
export const PAGE_CSP = "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data:; " +
  `font-src 'self'; connect-src 'self' ${MODEL_HOSTS}; manifest-src 'self'; base-uri 'none'; form-action 'none'; ` +
  "object-src 'none'; frame-ancestors 'none'";
// Scripts (a worker's policy is its own script's header): WebAssembly, this origin's modules and
// workers, model downloads.
export const WORKER_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
  `connect-src 'self' ${MODEL_HOSTS}; base-uri 'none'`;
const cspFor = (file) => ({ '.html': PAGE_CSP, '.mjs': WORKER_CSP, '.js': WORKER_CSP })[path.extname(file).toLowerCase()];

// URL path -> { file, mount } inside a mount, or null (unknown prefix, traversal, NUL, a dotfile or
// dot folder on the way).
function resolvePath(mounts, urlPath) {
  let p;
  try { p = decodeURIComponent(urlPath); } catch { return null; }
  if (p.includes('\0')) return null;
  const prefix = Object.keys(mounts).sort((a, b) => b.length - a.length).find((m) => p.startsWith(m));
  if (!prefix) return null;
  const mount = typeof mounts[prefix] === 'string' ? { dir: mounts[prefix] } : mounts[prefix];
  const rel = path.posix.normalize(`/${p.slice(prefix.length)}`);
  if (rel.split('/').some((seg) => seg.startsWith('.'))) return null;
  const file = path.resolve(mount.dir, `.${rel}`);
  if (file !== mount.dir && !file.startsWith(mount.dir + path.sep)) return null;
  return { file, mount };
}

// Whether a file found in a mount may be served: one its mount serves, and still inside the mount
// once symlinks are followed (a link in a served folder must not lead to the rest of the disk).
function servable({ dir, only }, file) {
  if (only && !only.test(path.relative(dir, file).split(path.sep).join('/'))) return false;
  try {
    const real = fs.realpathSync(file), root = fs.realpathSync(dir);
    return real.startsWith(root + path.sep);
  } catch { return false; }
}

// "bytes=a-b" / "bytes=a-" / "bytes=-n" -> {start, end} (inclusive); 'unsatisfiable'; null to serve all.
export function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // several ranges or nonsense: the whole file
  let start, end;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

// isolated: false leaves out COOP/COEP/CORP (a page that is not cross-origin isolated: one thread);
// cors: any origin may read the files (Access-Control-Allow-Origin: *), as from a CDN; csp: false
// leaves out the Content-Security-Policy headers.
export function startServer({ host = '127.0.0.1', port = 0, mounts = DEFAULT_MOUNTS, quiet = true, isolated = true, cors = false,
  csp = true } = {}) {
  const isolation = isolated ? { ...ISOLATION_HEADERS } : { 'Cache-Control': ISOLATION_HEADERS['Cache-Control'] };
  if (cors) Object.assign(isolation, { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' });
  const seen = []; // {method, path, range, status} of every request
  const cuts = new Map(); // path -> 503s to answer after the cut
  const failures = new Map(); // path -> requests still to answer 503
  const server = http.createServer((req, res) => {
    let url;
    try { url = new URL(req.url, 'http://localhost'); } catch { url = null; }
    const send = (status, body, headers = {}) => {
      seen.push({ method: req.method, path: url?.pathname ?? req.url, range: req.headers.range || null, status });
      res.writeHead(status, { ...isolation, 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (!quiet) console.log(`${req.method} ${url?.pathname ?? req.url} ${status}`);
    };
    if (!url || !req.url.startsWith('/')) return send(400, 'bad request target\n');
    // Only loopback names: a DNS-rebound page on another name must not read the tree.
    const hostName = (req.headers.host || '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    if (!['127.0.0.1', 'localhost', '::1'].includes(hostName)) return send(421, 'this server answers for 127.0.0.1 and localhost only\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'GET or HEAD only\n', { Allow: 'GET, HEAD' });
    if (url.pathname === '/') return send(302, '', { Location: `${fs.existsSync(path.join(ROOT, 'web/app/index.html')) ? '/web/app/' : '/web/'}${url.search}` });
    const failing = failures.get(url.pathname);
    if (failing) {
      failures.set(url.pathname, failing - 1);
      return send(503, 'unavailable (test hook)\n', { 'Retry-After': '1' });
    }
    const found = resolvePath(mounts, url.pathname);
    if (!found) return send(404, 'not found\n');
    let { file } = found;
    let st;
    try {
      st = fs.statSync(file);
      if (st.isDirectory()) {
        if (!url.pathname.endsWith('/')) return send(301, '', { Location: `${url.pathname}/` });
        file = path.join(file, 'index.html');
        st = fs.statSync(file);
      }
    } catch { return send(404, 'not found\n'); }
    if (!st.isFile() || !servable(found.mount, file)) return send(404, 'not found\n');
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'Accept-Ranges': 'bytes', ETag: etag, 'Last-Modified': st.mtime.toUTCString(),
    };
    if (csp && cspFor(file)) headers['Content-Security-Policy'] = cspFor(file);
    let range = null;
    const ifRange = req.headers['if-range'];
    if (req.headers.range && (!ifRange || ifRange === etag)) range = parseRange(req.headers.range, st.size);
    if (range === 'unsatisfiable') return send(416, '', { ...headers, 'Content-Range': `bytes */${st.size}` });
    const { start, end } = range || { start: 0, end: st.size - 1 };
    const length = st.size === 0 ? 0 : end - start + 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    const entry = { method: req.method, path: url.pathname, range: req.headers.range || null, status: range ? 206 : 200, sent: 0 };
    seen.push(entry);
    res.writeHead(range ? 206 : 200, { ...isolation, ...headers, 'Content-Length': String(length) });
    if (!quiet) console.log(`${req.method} ${url.pathname} ${range ? 206 : 200} ${req.headers.range || ''}`);
    if (req.method === 'HEAD' || length === 0) return res.end();
    // The test hook: send half of what was asked for, then drop the connection.
    const cut = cuts.has(url.pathname);
    if (cut) {
      if (cuts.get(url.pathname)) failures.set(url.pathname, cuts.get(url.pathname));
      cuts.delete(url.pathname);
    }
    const last = cut ? start + Math.floor(length / 2) - 1 : end;
    const stream = fs.createReadStream(file, { start, end: last });
    stream.on('error', () => res.destroy());
    stream.on('data', (chunk) => { entry.sent += chunk.length; });
    if (cut) {
      stream.pipe(res, { end: false });
      stream.on('end', () => setTimeout(() => res.destroy(), 20));
    } else stream.pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        url: `http://${host}:${addr.port}`,
        port: addr.port,
        // Requests seen for a URL path (all methods, all statuses).
        requests: (p) => seen.filter((r) => r.path === p).length,
        // {method, path, range, status, sent (body bytes read from the file)} of each request for a URL path, in order.
        requestLog: (p) => seen.filter((r) => r.path === p),
        resetCounts: () => { seen.length = 0; },
        // The next GET of this path sends half of its bytes and drops the connection;
        // the `thenFail` requests after it get 503 Service Unavailable.
        cutOnce: (p, thenFail = 0) => cuts.set(p, thenFail),
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const s = await startServer({ port: Number(opt('--port', '8080')), quiet: args.includes('--quiet') });
  const cut = opt('--cut-once');
  if (cut) s.cutOnce(cut);
  console.log(`serving on ${s.url}/ (web/ at ${s.url}/web/, tests at ${s.url}/tests/browser/); Ctrl-C stops`);
}
