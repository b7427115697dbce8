// The chat app end to end on the WebGPU path (SwiftShader in headless
// Chromium), the same flow as app.test.mjs. Runs once the engine has a WebGPU
// backend (web/gpu/backend.mjs, issue 6) that can chat; until then it says why
// (the page's "WebGPU cannot be used here" with the backend's reason) and stops there.
import fs from 'node:fs';
import path from 'node:path';
import { done } from '../lib.mjs';
import { ROOT } from '../e2e/util.mjs';
import { appFlow } from './app_flow.mjs';

if (!fs.existsSync(path.join(ROOT, 'web/gpu/backend.mjs'))) {
  console.log('# skipped: web/gpu/backend.mjs is not there yet (the WebGPU backend, issue 6)');
} else {
  await appFlow({ backend: 'webgpu' });
}
done();
