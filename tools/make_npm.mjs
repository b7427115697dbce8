#!/usr/bin/env node
// Builds the npm package hearth-llm (`make npm`; docs/npm.md): stages build/npm/hearth-llm/ from
// web/package/ (package.json, README.md) and what web/client.mjs loads, found by following its
// imports, workers and wasm URLs (so the package holds what runs and nothing else: no CLI, tests,
// sources or app), then packs it with `npm pack` into build/npm/hearth-llm-VERSION.tgz and prints
// the tarball's and the unpacked size.
//
//   node tools/make_npm.mjs [--out DIR]     (default build/npm)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WEB = path.join(ROOT, 'web');
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const OUT = path.resolve(outIdx >= 0 ? args[outIdx + 1] : path.join(ROOT, 'build/npm'));

function fail(msg) {
  console.error(`make_npm: ${msg}`);
  process.exit(1);
}

// Relative files a module names: static and dynamic imports, `new URL('./x', import.meta.url)`
// (workers, wasm) and beside('./x') (web/locate.mjs, Node's workers).
const REFS = [
  /\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g,
  /\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
  /\bnew\s+URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  /\bbeside\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
];
// Named by web/gpu/host.mjs in the repository only (tests/node_modules' webgpu), never in the package.
const REPO_ONLY = new Set(['../tests/package.json']);

// Every file reachable from web/client.mjs, as paths relative to web/.
function closure(entry) {
  const seen = new Set([entry]);
  const todo = [entry];
  while (todo.length) {
    const rel = todo.pop();
    const file = path.join(WEB, rel);
    if (!fs.existsSync(file)) {
      fail(rel.endsWith('.wasm') ? `web/${rel} is missing: run make wasm first` : `web/${rel} (named by the engine) is missing`);
    }
    if (!/\.m?js$/.test(rel)) continue; // (web/vendor/'s modules are .js)
    const src = fs.readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, ''); // (not what comments name)
    for (const re of REFS) {
      for (const m of src.matchAll(re)) {
        if (REPO_ONLY.has(m[1])) continue;
        const dep = path.posix.normalize(path.posix.join(path.posix.dirname(rel), m[1]));
        if (dep.startsWith('..')) fail(`web/${rel} names ${m[1]}, outside web/`);
        if (!seen.has(dep)) { seen.add(dep); todo.push(dep); }
      }
    }
  }
  return [...seen].sort();
}

const template = JSON.parse(fs.readFileSync(path.join(WEB, 'package/package.json'), 'utf8'));
const stage = path.join(OUT, template.name);
fs.rmSync(stage, { recursive: true, force: true });
const code = closure('client.mjs');
// A vendored library's LICENSE goes with its modules (web/vendor/NAME/).
const licenses = [...new Set(code.filter((f) => f.startsWith('vendor/')).map((f) => `${path.posix.dirname(f)}/LICENSE`))];
const files = [...code, ...licenses, 'client.d.ts'];
for (const rel of files) {
  fs.mkdirSync(path.join(stage, path.dirname(rel)), { recursive: true });
  fs.copyFileSync(path.join(WEB, rel), path.join(stage, rel));
}
fs.copyFileSync(path.join(WEB, 'package/README.md'), path.join(stage, 'README.md'));
fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(template, null, 2)}\n`);

const tarball = path.join(OUT, `${template.name}-${template.version}.tgz`);
fs.rmSync(tarball, { force: true });
const r = spawnSync('npm', ['pack', '--json', '--pack-destination', OUT], { cwd: stage, encoding: 'utf8' });
if (r.status !== 0) fail(`npm pack failed:\n${r.stderr}`);
const [info] = JSON.parse(r.stdout);
const packed = new Set(info.files.map((f) => f.path));
const missing = files.filter((f) => !packed.has(f));
if (missing.length) fail(`the package's "files" (web/package/package.json) leave out ${missing.join(', ')}`);
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
console.log(`${path.relative(ROOT, tarball)}: ${info.entryCount} files, ${mb(info.size)} packed, ${mb(info.unpackedSize)} unpacked`);
