// The chat app end to end in headless Chromium on the CPU path (WebAssembly
// in a worker), with screenshots of its main states in build/screenshots/.
import { done } from '../lib.mjs';
import { appFlow } from './app_flow.mjs';

await appFlow({ backend: 'cpu', screenshots: true });
done();
