/**
 * Byte positions in a MessagePack message that msgpackr has already decoded whole, so they need no
 * validation (only bounds): where a top-level array element starts. Used to splice a message's
 * Arguments|ArgumentsKw into another message as they arrived. And whether every str of such a
 * message is UTF-8 (msgpackr decodes bytes that are not as U+FFFD, but the bytes are spliced on).
 */
import { isUtf8 } from 'node:buffer';

/** Checks the str at b[start, end); false stops the scan. */
type StrCheck = (b: Uint8Array, start: number, end: number) => boolean;

const utf8: StrCheck = (b, start, end) => isUtf8(b.subarray(start, end));

/** Whether every str (key or value) of a message msgpackr decoded whole is valid UTF-8. */
export function msgpackStringsAreUtf8(b: Uint8Array): boolean {
  return skip(b, 0, 1, utf8) === b.length;
}

/** Offset of top-level element `index` of the message's array, or -1 when it has fewer. */
export function msgpackElementOffset(b: Uint8Array, index: number): number {
  const t = b[0];
  let count: number;
  let i: number;
  if (t !== undefined && t >= 0x90 && t <= 0x9f) {
    count = t & 0x0f;
    i = 1;
  } else if (t === 0xdc && b.length >= 3) {
    count = u16(b, 1);
    i = 3;
  } else if (t === 0xdd && b.length >= 5) {
    count = u32(b, 1);
    i = 5;
  } else {
    return -1;
  }
  if (index >= count) return -1;
  const at = skip(b, i, index);
  return at < b.length ? at : -1;
}

/** The offset after `n` values starting at `i`, or -1 past the end (or when `str` refuses a str). */
function skip(b: Uint8Array, i: number, n: number, str?: StrCheck): number {
  let pending = n;
  while (pending > 0) {
    if (i >= b.length) return -1;
    const t = b[i]!;
    pending--;
    if (t <= 0x7f || t >= 0xe0) i += 1; // fixint
    else if (t <= 0x8f) {
      pending += 2 * (t & 0x0f); // fixmap
      i += 1;
    } else if (t <= 0x9f) {
      pending += t & 0x0f; // fixarray
      i += 1;
    } else if (t <= 0xbf) {
      if (str && !str(b, i + 1, i + 1 + (t & 0x1f))) return -1;
      i += 1 + (t & 0x1f); // fixstr
    } else {
      if (str && t >= 0xd9 && t <= 0xdb) {
        const head = t === 0xd9 ? 2 : t === 0xda ? 3 : 5;
        const length = t === 0xd9 ? (b[i + 1] ?? 0) : t === 0xda ? u16(b, i + 1) : u32(b, i + 1);
        if (!str(b, i + head, i + head + length)) return -1;
      }
      switch (t) {
        case 0xc0: case 0xc2: case 0xc3: i += 1; break; // nil, false, true
        case 0xc4: case 0xd9: i += 2 + (b[i + 1] ?? 0); break; // bin8, str8
        case 0xc5: case 0xda: i += 3 + u16(b, i + 1); break; // bin16, str16
        case 0xc6: case 0xdb: i += 5 + u32(b, i + 1); break; // bin32, str32
        case 0xc7: i += 3 + (b[i + 1] ?? 0); break; // ext8
        case 0xc8: i += 4 + u16(b, i + 1); break; // ext16
        case 0xc9: i += 6 + u32(b, i + 1); break; // ext32
        case 0xcc: case 0xd0: i += 2; break;
        case 0xcd: case 0xd1: i += 3; break;
        case 0xca: case 0xce: case 0xd2: i += 5; break;
        case 0xcb: case 0xcf: case 0xd3: i += 9; break;
        case 0xd4: i += 3; break; // fixext 1..16: type + data
        case 0xd5: i += 4; break;
        case 0xd6: i += 6; break;
        case 0xd7: i += 10; break;
        case 0xd8: i += 18; break;
        case 0xdc: pending += u16(b, i + 1); i += 3; break; // array16
        case 0xdd: pending += u32(b, i + 1); i += 5; break; // array32
        case 0xde: pending += 2 * u16(b, i + 1); i += 3; break; // map16
        case 0xdf: pending += 2 * u32(b, i + 1); i += 5; break; // map32
        default: return -1; // 0xc1: never used
      }
    }
  }
  return i <= b.length ? i : -1;
}

function u16(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
}

function u32(b: Uint8Array, i: number): number {
  return (((b[i] ?? 0) << 24) >>> 0) + (((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0));
}
