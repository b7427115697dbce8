// SHA-256 of a model part as its bytes stream into storage. WebCrypto's digest takes the whole
// input at once and the files are gigabytes, so the hash is incremental: @noble/hashes' SHA-256
// (vendored in web/vendor/noble-hashes/, README "Dependencies"). A resumed part first hashes the
// bytes already stored, read back from the sink, so the digest always covers the file from byte 0.
import { sha256 } from './vendor/noble-hashes/sha2.js';
import { ModelIntegrityError } from './errors.mjs';

const READ_CHUNK = 4 << 20;
const hex = (d) => Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');

// A running hash of part (its .sha256 the expected hex digest) covering bytes [0, pos).
// Bytes must come in file order: add(bytes) appends, restart() forgets all.
export function partHash(part) {
  let h = sha256.create(), pos = 0;
  return {
    // The first `upTo` bytes as the sink holds them (sink.read(offset, dst)).
    addStored(sink, upTo) {
      for (let at = 0; at < upTo;) {
        const buf = new Uint8Array(Math.min(READ_CHUNK, upTo - at));
        sink.read(at, buf);
        h.update(buf);
        at += buf.length;
      }
      pos = upTo;
    },
    add(bytes) { h.update(bytes); pos += bytes.length; },
    restart() { h = sha256.create(); pos = 0; },
    get pos() { return pos; },
    // Throws ModelIntegrityError unless the bytes so far hash to part.sha256; returns the hex digest.
    check() {
      const actual = hex(h.digest());
      if (actual !== part.sha256) {
        throw new ModelIntegrityError(`${part.name}: its SHA-256 is ${actual}, but ${part.sha256} was published for it: ` +
          'the file is not the one expected (changed, damaged or replaced on the way); its bytes were deleted', {
          file: part.name, expected: part.sha256, actual,
        });
      }
      return actual;
    },
  };
}
