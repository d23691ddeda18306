/**
 * Byte positions in a JSON array text that `JSON.parse` has already accepted, so they need no
 * validation: where a top-level element starts, and where the array closes. Used to splice a
 * message's Arguments|ArgumentsKw into another message as they arrived.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_LIST = 0x5b;
const CLOSE_LIST = 0x5d;
const OPEN_DICT = 0x7b;
const CLOSE_DICT = 0x7d;

/** Offset of top-level element `index` of the array, or -1 when the array has fewer elements. */
export function jsonElementOffset(text: Uint8Array, index: number): number {
  const n = text.length;
  let i = 0;
  while (i < n && text[i] !== OPEN_LIST) i++;
  if (++i >= n) return -1;
  let element = 0;
  let depth = 0;
  while (element < index && i < n) {
    const c = text[i]!;
    if (c === QUOTE) {
      // Skip the string: its brackets and commas are not structure.
      i++;
      while (i < n && text[i] !== QUOTE) i += text[i] === BACKSLASH ? 2 : 1;
    } else if (c === OPEN_LIST || c === OPEN_DICT) {
      depth++;
    } else if (c === CLOSE_LIST || c === CLOSE_DICT) {
      if (depth === 0) return -1;
      depth--;
    } else if (c === COMMA && depth === 0) {
      element++;
    }
    i++;
  }
  while (i < n && isSpace(text[i]!)) i++;
  return element === index && i < n && text[i] !== CLOSE_LIST ? i : -1;
}

/** Offset of the array's closing bracket (the last one in the text), or -1. */
export function jsonLastBracket(text: Uint8Array): number {
  let i = text.length - 1;
  while (i >= 0 && text[i] !== CLOSE_LIST) i--;
  return i;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
