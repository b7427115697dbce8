// Model sources over blobs (a File the user picked, or a Cache API entry):
// synchronous positioned reads with FileReaderSync, which only exists in
// workers. The File is read in place, never uploaded or copied whole.
import { UnsupportedModelError } from './errors.mjs';
import { checkGgufHeader, GGUF_HEADER_BYTES } from './store_gguf.mjs';

const CHUNK = 1 << 26; // 64 MiB per read keeps the temporary ArrayBuffers small

function readBlob(reader, blob, offset, dst) {
  for (let done = 0; done < dst.length;) {
    const n = Math.min(CHUNK, dst.length - done);
    const ab = reader.readAsArrayBuffer(blob.slice(offset + done, offset + done + n));
    if (ab.byteLength !== n) throw new Error(`unexpected end of file at byte ${offset + done + ab.byteLength}`);
    dst.set(new Uint8Array(ab), done);
    done += n;
  }
}

// Checks the GGUF header of every part; returns the total size.
export function checkBlobs(blobs, names) {
  const reader = new FileReaderSync();
  let total = 0;
  blobs.forEach((b, i) => {
    const head = new Uint8Array(Math.min(GGUF_HEADER_BYTES, b.size));
    readBlob(reader, b, 0, head);
    checkGgufHeader(head, names[i]);
    total += b.size;
  });
  return total;
}

// A hearth.mjs model source over opened parts [{name, size, read(offset, dst)}];
// close() runs when the engine unloads the model.
export function partsSource(parts, close = () => {}) {
  return {
    open(part, count) {
      // Part 0 is opened before the core knows the count (split.count in its header).
      if (part >= parts.length || (part > 0 && count !== parts.length)) {
        throw new UnsupportedModelError(`${parts[0].name} says the model has ${count} parts, but ${parts.length} were given`);
      }
      return parts[part];
    },
    close,
  };
}

// A source over blobs (parts in order).
export function blobSource(blobs, names) {
  const reader = new FileReaderSync();
  return partsSource(blobs.map((blob, i) => ({
    name: names[i], size: blob.size, read: (offset, dst) => readBlob(reader, blob, offset, dst),
  })));
}
