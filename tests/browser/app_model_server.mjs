// A stand-in for a model host such as Hugging Face, for the chat app's tests:
// another origin (a second port on 127.0.0.1), CORS as a CDN sends it, single
// ranges (resume), an optional speed limit so a download is slow enough to
// watch, and a count of the requests it saw (the app must send none for a
// cached model).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseRange } from '../../web/serve.mjs';

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Range, If-Range',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges, ETag',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Cache-Control': 'no-store',
};

// files: { '/name.gguf': '/abs/path' }; port: 0 for any free one (or the port of a server that was closed,
// to bring it back). ranges: the Range headers of the GETs seen.
export function startModelServer(files, { port = 0 } = {}) {
  let bytesPerSecond = 0;
  let requests = 0;
  const ranges = [];
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (req.method === 'OPTIONS') { res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET, HEAD' }); return res.end(); }
    requests++;
    if (req.method === 'GET') ranges.push(req.headers.range || '');
    const file = files[p];
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) { res.writeHead(404, CORS); return res.end(); }
    const size = fs.statSync(file).size;
    const etag = `"${size.toString(16)}"`;
    let range = req.headers.range ? parseRange(req.headers.range, size) : null;
    if (req.headers['if-range'] && req.headers['if-range'] !== etag) range = null;
    if (range === 'unsatisfiable') { res.writeHead(416, { ...CORS, 'Content-Range': `bytes */${size}` }); return res.end(); }
    const { start, end } = range || { start: 0, end: size - 1 };
    const headers = { ...CORS, 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: etag, 'Content-Length': String(end - start + 1) };
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') return res.end();
    if (!bytesPerSecond) return fs.createReadStream(file, { start, end }).pipe(res);
    // Throttled: one slice every 50 ms.
    const fd = fs.openSync(file, 'r');
    let pos = start;
    const slice = Math.max(1, Math.round(bytesPerSecond / 20));
    const timer = setInterval(() => {
      const n = Math.min(slice, end + 1 - pos);
      const buf = Buffer.alloc(n);
      fs.readSync(fd, buf, 0, n, pos);
      pos += n;
      res.write(buf);
      if (pos > end) { clearInterval(timer); fs.closeSync(fd); res.end(); }
    }, 50);
    res.on('close', () => { if (pos <= end) { clearInterval(timer); fs.closeSync(fd); } });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    port: server.address().port,
    requests: () => requests,
    ranges: () => ranges,
    throttle: (bps) => { bytesPerSecond = bps; },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  })));
}

export const fileEntry = (abs) => ({ [`/${path.basename(abs)}`]: abs });
