/**
 * Byte positions in a CBOR message that cbor-x has already decoded whole, so they need no
 * validation (only bounds): where a top-level array element starts and where the array's
 * elements end. Used to splice a message's Arguments|ArgumentsKw into another message as they
 * arrived. Nesting is bounded by the decoder's depth limit (wamp-value.ts), so recursion is too.
 * And whether every text string of such a message is UTF-8 (cbor-x decodes bytes that are not as
 * U+FFFD, but the bytes are spliced on).
 */
import { isUtf8 } from 'node:buffer';

const BREAK = 0xff;

/** Whether every text string (key, value or chunk) of a message cbor-x decoded whole is valid UTF-8. */
export function cborStringsAreUtf8(b: Uint8Array): boolean {
  return skip(b, 0, true) === b.length;
}

/** [offset of top-level element `index`, end of the elements], or undefined when there is none. */
export function cborElementRange(b: Uint8Array, index: number): [number, number] | undefined {
  const t = b[0];
  if (t === undefined || t >> 5 !== 4) return undefined;
  const indefinite = (t & 0x1f) === 31;
  let i: number;
  if (indefinite) {
    i = 1;
  } else {
    const head = argument(b, 0);
    if (head === undefined || index >= head[0]) return undefined;
    i = head[1];
  }
  for (let k = 0; k < index && i >= 0; k++) {
    if (indefinite && b[i] === BREAK) return undefined;
    i = skip(b, i);
  }
  const end = indefinite ? b.length - 1 : b.length;
  if (i < 0 || i >= end || (indefinite && (b[i] === BREAK || b[end] !== BREAK))) return undefined;
  return [i, end];
}

/** The offset after the item at `i`, or -1 past the end (or, with `utf8`, at a text string that is not UTF-8). */
function skip(b: Uint8Array, i: number, utf8 = false): number {
  if (i >= b.length) return -1;
  const t = b[i]!;
  const major = t >> 5;
  if ((t & 0x1f) === 31) {
    if (major < 2 || major > 5) return -1;
    // Indefinite length: items (chunks, elements, or key/value pairs) until a break.
    let at = i + 1;
    while (at >= 0 && at < b.length && b[at] !== BREAK) at = skip(b, at, utf8);
    return at >= 0 && at < b.length ? at + 1 : -1;
  }
  const head = argument(b, i);
  if (head === undefined) return -1;
  const [value, next] = head;
  switch (major) {
    case 2:
    case 3:
      if (next + value > b.length) return -1;
      // Each chunk of an indefinite text string must be UTF-8 by itself (RFC 8949, 3.2.3).
      if (utf8 && major === 3 && !isUtf8(b.subarray(next, next + value))) return -1;
      return next + value;
    case 4:
    case 5: {
      let at = next;
      const items = major === 4 ? value : 2 * value;
      for (let k = 0; k < items && at >= 0; k++) at = skip(b, at, utf8);
      return at;
    }
    case 6:
      return skip(b, next, utf8);
    default:
      return next; // integers, simple values, floats
  }
}

/** The item's argument (length, count or value) and where its content starts. */
function argument(b: Uint8Array, i: number): [number, number] | undefined {
  const info = b[i]! & 0x1f;
  if (info < 24) return [info, i + 1];
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (size === 0 || i + 1 + size > b.length) return undefined;
  let value = 0;
  for (let k = 1; k <= size; k++) value = value * 256 + b[i + k]!;
  return [value, i + 1 + size];
}
