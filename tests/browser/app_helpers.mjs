// Shared by the chat app's browser tests: the dev server of `make serve`
// (web/serve.mjs, on a free port so tests never collide with a running
// `make serve`), headless Debian Chromium through playwright-core, and a
// folder for screenshots (build/screenshots/, not committed).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { WAIT_MS } from './browser_util.mjs';
import { ROOT, BUILD } from '../e2e/util.mjs';
import { startServer } from '../../web/serve.mjs';

export const SHOTS = path.join(BUILD, 'screenshots');

// Copies the page's libraries as `make serve` does (make app; the wasm build comes from make test's
// own `wasm` prerequisite), then serves it.
export async function serveApp() {
  const r = spawnSync('make', ['-s', 'app'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make app failed:\n${r.stdout}${r.stderr}`);
  for (const f of ['web/dist/hearth.wasm', 'web/dist/hearth-mt.wasm', 'web/dist/hearth-relaxed.wasm', 'web/dist/hearth-relaxed-mt.wasm']) {
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: run make wasm first`);
  }
  return startServer({ port: 0 });
}

// Chromium with WebGPU through SwiftShader when asked; never a downloaded browser.
export async function launch({ webgpu = false } = {}) {
  const args = ['--no-sandbox'];
  if (webgpu) args.push('--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader');
  const b = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
  // Every page's and context's waits (clicks, selectors) as long as the tests' own (WAIT_MS).
  const newContext = b.newContext.bind(b), newPage = b.newPage.bind(b);
  b.newContext = async (o) => { const c = await newContext(o); c.setDefaultTimeout(WAIT_MS); return c; };
  b.newPage = async (o) => { const p = await newPage(o); p.setDefaultTimeout(WAIT_MS); return p; };
  return b;
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

// Console errors and page errors, for failure messages.
export function collectErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return errors;
}
