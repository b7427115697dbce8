// What a failed model load means for the person in front of the page, and
// what they can do next. `E` holds the engine's typed errors (web/errors.mjs);
// matching by name as well keeps this working across a worker boundary.
import { bytes } from './format.mjs';

const is = (err, E, name) => (E[name] && err instanceof E[name]) || err?.name === name;

export function explainLoadError(err, E, { retry, cpu, manage }) {
  const msg = err?.message || String(err);
  if (is(err, E, 'QuotaExceededError')) {
    const need = Number(err.bytes ?? err.needed ?? 0);
    const avail = Number(err.available ?? NaN);
    const missing = need && Number.isFinite(avail) ? need - avail : Number(err.missing ?? 0);
    return {
      title: 'Not enough storage for this model',
      text: `${missing > 0 ? `${bytes(missing)} more space is needed. ` : ''}Delete stored models you no longer use, free disk space, or pick a smaller model. (${msg})`,
      actions: [['Manage stored models', manage], ['Try again', retry]],
    };
  }
  if (is(err, E, 'NetworkError')) {
    return {
      title: 'The download was interrupted',
      text: `Check the connection and try again: the download resumes where it stopped. (${msg})`,
      actions: [['Retry', retry]],
    };
  }
  if (is(err, E, 'ModelTooLargeError')) {
    return {
      title: 'This model is too large for this device',
      text: `Pick a smaller model (a 4-bit "Q4_0" file, or fewer parameters), or run it on the CPU. (${msg})`,
      actions: [['Use the CPU', cpu]],
    };
  }
  if (is(err, E, 'UnsupportedModelError')) {
    return {
      title: 'This file cannot be used',
      text: `It is not a GGUF model in a format hearth reads (Llama, Phi-3 or Qwen2 in F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 or Q5_1). (${msg})`,
      actions: [],
    };
  }
  if (is(err, E, 'ModelIntegrityError')) {
    return {
      title: 'This download is not the published model file',
      text: `Its bytes differ from the ones published for it (SHA-256 or size), so they were deleted and nothing was loaded. The file may have been replaced or damaged on the way; try again later, or pick another model. (${msg})`,
      actions: [['Try again', retry]],
    };
  }
  if (is(err, E, 'ModelNotFoundError')) {
    return { title: 'No model at that address', text: `Check the URL (a Hugging Face link must use /resolve/main/, not /blob/main/). (${msg})`, actions: [] };
  }
  if (is(err, E, 'UnsupportedBackendError') || /webgpu|gpu adapter|navigator\.gpu/i.test(msg)) {
    return {
      title: 'WebGPU cannot be used here',
      text: `This browser or device offers no WebGPU (the graphics-card path). The model can run on the CPU instead, more slowly. (${msg})`,
      actions: [['Use the CPU', cpu]],
    };
  }
  if (/failed to fetch|network|load failed/i.test(msg)) {
    return { title: 'The model could not be downloaded', text: `Check the address and the connection. (${msg})`, actions: [['Retry', retry]] };
  }
  if (/import|module|client\.mjs/i.test(msg)) {
    return { title: 'The engine could not start', text: `Reload the page; if it persists, the app files are incomplete. (${msg})`, actions: [['Retry', retry]] };
  }
  return { title: 'The model could not be loaded', text: msg, actions: [['Retry', retry]] };
}
