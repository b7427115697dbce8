// The WebGPU backend in headless Chromium (SwiftShader, --enable-unsafe-webgpu):
// the page imports web/hearth.mjs and web/gpu/host.mjs, loads a golden test
// model from memory, and its greedy tokens and first-step logits are judged
// against llama.cpp's goldens as in tests/e2e/webgpu.test.mjs. Files are
// served from the repository through Playwright's routing (no server).
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { check, done } from '../lib.mjs';
import { ROOT } from '../e2e/util.mjs';
import { compareGreedy, ensureModel, goldenFixtures, logitError } from '../e2e/golden_lib.mjs';

// One model per architecture, three weight types (tests/e2e/webgpu.test.mjs runs every type in
// Node through the same Dawn; names on the command line run others).
const NAMES = process.argv.length > 2 ? process.argv.slice(2) : ['phi3-llama2-q4_0', 'qwen2-qwen3-q8_0', 'llama-llama3-f16'];
const ORIGIN = 'http://localhost:8931';
const TYPES = { '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader',
    '--use-webgpu-adapter=swiftshader'],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route(`${ORIGIN}/**`, (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname).replace(/^\/+/, '');
    if (rel === 'index.html') return route.fulfill({ body: '<!doctype html><title>webgpu test</title>', contentType: 'text/html' });
    const file = path.resolve(ROOT, rel);
    if (!file.startsWith(ROOT) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return route.fulfill({ status: 404 });
    return route.fulfill({ body: fs.readFileSync(file), contentType: TYPES[path.extname(file)] || 'application/octet-stream' });
  });
  await page.goto(`${ORIGIN}/index.html`);
  const hasGpu = await page.evaluate(async () => !!(navigator.gpu && await navigator.gpu.requestAdapter()));
  if (check('Chromium offers a WebGPU adapter (SwiftShader)', hasGpu, 'navigator.gpu has no adapter')) {
    for (const fx of goldenFixtures().filter((f) => NAMES.includes(f.name))) {
      const rel = path.relative(ROOT, ensureModel(fx));
      const out = await page.evaluate(async ({ rel, prompt, n }) => {
        const { Hearth, bufferSource } = await import('/web/hearth.mjs');
        const { createGpu } = await import('/web/gpu/host.mjs');
        const gpu = await createGpu({ exactAttention: true });
        const h = await Hearth.create({ gpu });
        const bytes = await (await fetch(`/${rel}`)).arrayBuffer();
        h.load(bufferSource(bytes), { backend: 'webgpu', contextSize: 512, maxBatch: 64 });
        await gpu.ready();
        const logits = [];
        const r = await gpu.generate(h.promptTokens(prompt), { temperature: 0, maxTokens: n, logitSteps: 1,
          onToken: (id, t, lv) => { const l = lv(); if (l) logits.push(Array.from(l.keys()).sort((a, b) => l[b] - l[a] || a - b).slice(0, 64).map((i) => [i, l[i]])); } });
        h.unload();
        gpu.destroy();
        return { tokens: r.tokens, logits, adapter: gpu.adapter };
      }, { rel, prompt: fx.prompt, n: fx.generated.length }).catch((e) => ({ error: e.message }));
      if (!check(`${fx.name} (Chromium WebGPU): runs`, !out.error, `${out.error} ${errors.join('; ')}`)) continue;
      const g = compareGreedy(fx, out.tokens);
      check(`${fx.name} (Chromium WebGPU, ${out.adapter}): greedy tokens equal llama.cpp's (${g.compared}/${fx.generated.length})`, g.ok, g.why);
      const l = logitError(fx, out, 1);
      check(`${fx.name} (Chromium WebGPU): first-step logits within 1e-3 of llama.cpp's (${l.maxRel.toExponential(1)})`,
        l.maxRel <= 1e-3 && l.missing === 0, `max ${l.maxRel}, ${l.missing} missing`);
    }
  }
} finally { await browser.close(); }
done();
