#!/usr/bin/env node
// Pins the chat app's presets (web/app/presets.json) to what Hugging Face publishes now: for each
// preset, asks the hub's API about its repo at its revision (main where none is pinned yet) and
// writes revision (the commit), sha256 (the file's LFS SHA-256) and size (exact, in bytes). The app
// then downloads resolve/{commit}/{file} and refuses bytes that do not hash to sha256 (web/hf.mjs,
// web/store_download.mjs). Run it where huggingface.co is reachable, review the diff, commit.
//
//   node tools/pin_presets.mjs [--file web/app/presets.json] [--api-base https://huggingface.co]
//                              [--update]   (ask at main again for presets already pinned)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HF_ORIGIN, hfApiUrl, pinFromApi } from '../web/hf.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const file = path.resolve(opt('--file', path.join(ROOT, 'web/app/presets.json')));
const base = opt('--api-base', HF_ORIGIN).replace(/\/+$/, '');
const update = args.includes('--update');

function fail(msg) {
  console.error(`pin_presets: ${msg}`);
  process.exit(1);
}

let doc;
try { doc = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) { fail(`cannot read ${file}: ${e.message}`); }
if (!Array.isArray(doc?.presets)) fail(`${file} has no "presets" list`);

let failed = 0;
for (const p of doc.presets) {
  if (!p.repo || !p.file) { console.error(`${p.id}: no repo/file, skipped`); failed++; continue; }
  const rev = update || !p.revision ? 'main' : p.revision;
  try {
    const r = await fetch(hfApiUrl(p.repo, rev, base));
    if (!r.ok) throw new Error(`${hfApiUrl(p.repo, rev, base)}: HTTP ${r.status}`);
    const pin = pinFromApi(await r.json(), p.file);
    if (!pin.sha256) throw new Error(`the hub publishes no SHA-256 for ${p.file} (not an LFS file)`);
    if (!pin.size) throw new Error(`the hub publishes no size for ${p.file}`);
    const was = `${p.revision || '-'} ${p.sha256 || '-'} ${p.size}`;
    p.revision = pin.commit;
    p.sha256 = pin.sha256;
    p.size = pin.size;
    delete p.sizeApproximate;
    const now = `${p.revision} ${p.sha256} ${p.size}`;
    console.log(`${p.id}: ${was === now ? 'unchanged' : `${was} -> ${now}`}`);
  } catch (e) {
    console.error(`${p.id}: ${e.message}`);
    failed++;
  }
}
// Keys in a fixed order (pins beside repo and file) so that diffs stay small.
const ORDER = ['id', 'name', 'quant', 'repo', 'file', 'revision', 'sha256', 'size', 'sizeApproximate', 'defaults'];
doc.presets = doc.presets.map((p) => Object.fromEntries([
  ...ORDER.filter((k) => k in p).map((k) => [k, p[k]]), ...Object.entries(p).filter(([k]) => !ORDER.includes(k)),
]));
fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
if (failed) fail(`${failed} preset(s) not pinned (see above); the others were written to ${file}`);
