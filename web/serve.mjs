#!/usr/bin/env node
// The development and test server: static files with the headers a
// cross-origin-isolated page needs (COOP/COEP, so SharedArrayBuffer and wasm
// threads work), the right MIME types, single-range requests (downloads resume
// with Range) and hooks for tests: cut a download off halfway once (and then
// answer 503 a few times), and log requests per path. Bound to 127.0.0.1; no framework.
//
//   node web/serve.mjs [--port 8080] [--cut-once /build/models/x.gguf]
//
// Mounts (URL prefix -> directory): /web/ -> web/, /tests/browser/ ->
// tests/browser/, /build/ -> build/, /shared/models/ -> ../shared/models/.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_MOUNTS = {
  '/web/': path.join(ROOT, 'web'),
  '/tests/browser/': path.join(ROOT, 'tests/browser'),
  '/build/': path.join(ROOT, 'build'),
  '/shared/models/': path.resolve(ROOT, '../shared/models'),
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

// URL path -> file path inside a mount, or null (unknown prefix, traversal, NUL).
function resolvePath(mounts, urlPath) {
  let p;
  try { p = decodeURIComponent(urlPath); } catch { return null; }
  if (p.includes('\0')) return null;
  const prefix = Object.keys(mounts).sort((a, b) => b.length - a.length).find((m) => p.startsWith(m));
  if (!prefix) return null;
  const base = mounts[prefix];
  const file = path.resolve(base, `.${path.posix.normalize(`/${p.slice(prefix.length)}`)}`);
  if (file !== base && !file.startsWith(base + path.sep)) return null;
  return file;
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

export function startServer({ host = '127.0.0.1', port = 0, mounts = DEFAULT_MOUNTS, quiet = true } = {}) {
  const seen = []; // {method, path, range, status} of every request
  const cuts = new Map(); // path -> 503s to answer after the cut
  const failures = new Map(); // path -> requests still to answer 503
  const server = http.createServer((req, res) => {
    let url;
    try { url = new URL(req.url, 'http://localhost'); } catch { url = null; }
    const send = (status, body, headers = {}) => {
      seen.push({ method: req.method, path: url?.pathname ?? req.url, range: req.headers.range || null, status });
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers });
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
    let file = resolvePath(mounts, url.pathname);
    if (!file) return send(404, 'not found\n');
    let st;
    try {
      st = fs.statSync(file);
      if (st.isDirectory()) {
        if (!url.pathname.endsWith('/')) return send(301, '', { Location: `${url.pathname}/` });
        file = path.join(file, 'index.html');
        st = fs.statSync(file);
      }
    } catch { return send(404, 'not found\n'); }
    if (!st.isFile()) return send(404, 'not found\n');
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'Accept-Ranges': 'bytes', ETag: etag, 'Last-Modified': st.mtime.toUTCString(),
    };
    let range = null;
    const ifRange = req.headers['if-range'];
    if (req.headers.range && (!ifRange || ifRange === etag)) range = parseRange(req.headers.range, st.size);
    if (range === 'unsatisfiable') return send(416, '', { ...headers, 'Content-Range': `bytes */${st.size}` });
    const { start, end } = range || { start: 0, end: st.size - 1 };
    const length = st.size === 0 ? 0 : end - start + 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    const entry = { method: req.method, path: url.pathname, range: req.headers.range || null, status: range ? 206 : 200, sent: 0 };
    seen.push(entry);
    res.writeHead(range ? 206 : 200, { ...ISOLATION_HEADERS, ...headers, 'Content-Length': String(length) });
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
