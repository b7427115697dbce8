// Headless Debian Chromium for the runtime's browser tests, through
// playwright-core (never a downloaded browser), with WebGPU enabled
// (SwiftShader) and a fresh profile directory, so OPFS and the Cache API
// start empty and persist across reloads within one test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// How long a test waits for something that must happen (a model loaded, an
// answer finished): long enough that only a hang misses it, on any machine
// (an AVX2-only VM running SwiftShader took several times this one's).
export const WAIT_MS = Number(process.env.HEARTH_TEST_WAIT_MS) || 600000;

// Returns {context, page, close()}; the profile is deleted on close. args: more command-line flags.
export async function launchBrowser({ args = [] } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader',
      '--use-webgpu-adapter=swiftshader', ...args],
  });
  context.setDefaultTimeout(WAIT_MS);
  const page = context.pages()[0] || await context.newPage();
  return {
    context, page,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Page errors and console errors, to explain a failure.
export function pageErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
  return errors;
}
