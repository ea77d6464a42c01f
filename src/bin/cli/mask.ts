/**
 * Output masking of `clavitor-cli run` (issue 14 item 1): every occurrence of a resolved secret in
 * the child's stdout or stderr is replaced by `<concealed by clavitor>`, as `op run` does, also
 * when a secret is split across two chunks of the stream (the possible start of a secret at the
 * end of a chunk is held back until the next chunk or the end shows whether it is one).
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform } from 'node:stream';

/** What a masked secret is replaced with. */
export const CONCEALED = '<concealed by clavitor>';

/** A streaming masker over text: `push` returns what may be written now, `end` the rest. */
export interface Masker {
  push(text: string): string;
  end(): string;
}

/** Builds a masker for `secrets` (empty strings ignored; the longest match wins at each position). */
export function createMasker(secrets: readonly string[], replacement: string = CONCEALED): Masker {
  const list = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  let pending = '';
  const scan = (final: boolean): string => {
    const buf = pending;
    let out = '';
    let i = 0;
    // Longest secrets first: a longer one that the text so far could still become is waited for
    // before a shorter one that already matches is replaced.
    outer: while (i < buf.length) {
      const rest = buf.length - i;
      for (const s of list) {
        if (buf.startsWith(s, i)) {
          out += replacement;
          i += s.length;
          continue outer;
        }
        if (!final && s.length > rest && s.startsWith(buf.slice(i))) break outer;
      }
      out += buf[i];
      i += 1;
    }
    pending = buf.slice(i);
    return out;
  };
  return {
    push(text) {
      pending += text;
      return list.length === 0 ? scan(true) : scan(false);
    },
    end() {
      return scan(true);
    },
  };
}

/** A byte stream transform (UTF-8) that masks `secrets`. */
export function maskingStream(secrets: readonly string[]): Transform {
  const m = createMasker(secrets);
  const dec = new StringDecoder('utf8');
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, Buffer.from(m.push(dec.write(chunk)), 'utf8'));
    },
    flush(cb) {
      cb(null, Buffer.from(m.push(dec.end()) + m.end(), 'utf8'));
    },
  });
}
