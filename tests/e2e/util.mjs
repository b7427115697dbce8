// Shared by the end-to-end tests: paths, running the CLI, test models.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = path.resolve(ROOT, '../shared');
export const BUILD = path.resolve(ROOT, process.env.BUILD || 'build');
export const HEARTH = path.join(BUILD, 'hearth');
export const MODELS = path.join(BUILD, 'models');

// A command that runs the CLI for another machine, e.g. HEARTH_EXEC="qemu-aarch64 -L /usr/aarch64-linux-gnu
// -cpu max" with BUILD=build-arm64 (tests/e2e/arm64.test.mjs); words split on spaces.
const EXEC = (process.env.HEARTH_EXEC || '').split(' ').filter(Boolean);

// Runs the CLI; returns {status, stdout, stderr}.
export function hearth(args, opts = {}) {
  const [cmd, ...pre] = EXEC.length ? [...EXEC, HEARTH] : [HEARTH];
  const r = spawnSync(cmd, [...pre, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// Generates a test model with tools/make_test_model.mjs (args without --out)
// unless a file made from the same arguments is already there.
export function testModel(args, name) {
  fs.mkdirSync(MODELS, { recursive: true });
  const key = crypto.createHash('sha1').update(args.join(' ')).digest('hex').slice(0, 10);
  const out = path.join(MODELS, `${name || 'model'}-${key}.gguf`);
  if (!fs.existsSync(out)) {
    const tmp = `${out}.tmp-${process.pid}.gguf`;
    const r = spawnSync('node', [path.join(ROOT, 'tools/make_test_model.mjs'), ...args, '--out', tmp],
      { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`make_test_model ${args.join(' ')} failed: ${r.stderr}`);
    fs.renameSync(tmp, out);
  }
  return out;
}

// hearth serve's GET /health, and a poll of it until cond holds (a generous limit: the server
// reacts within a token); the last answer either way.
export const health = async (url) => (await fetch(`${url}/health`)).json();
export async function waitHealth(url, cond, limitMs = 60000) {
  const until = Date.now() + limitMs;
  let h;
  do {
    h = await health(url);
    if (cond(h)) return h;
    await new Promise((r) => setTimeout(r, 20));
  } while (Date.now() < until);
  return h;
}
