/**
 * The fast way through a large JSON message whose last element is Arguments of one binary value,
 * `…,["\u0000<base64>"]]` — how every WAMP JSON client sends a large binary payload. Decoding it
 * whole turns megabytes into a UTF-16 string, parses it and walks it before the base64 is read
 * (~3 ms for 1 MiB, most of the router's work for such a message). Here only the head before the
 * Arguments is decoded as usual, and the base64 text is decoded straight from the bytes.
 *
 * Whenever the message does not have exactly that shape this gives up (undefined) and the message
 * is decoded whole, which also makes the error for a malformed one: the two ways always agree.
 * Why that holds: the head text plus "]" parsed as a non-empty JSON array, so the head text is
 * that array before its closing bracket, and adding `,["\u0000B"]]` keeps it valid JSON when B is
 * a JSON string body; B has no quote (the opening quote is the last one before the closing one)
 * and no backslash (looked for), and Node's base64 decoder skips what is not in its alphabet, so
 * `isBase64` (nothing skipped) leaves only the standard alphabet: printable ASCII.
 */
import { isBase64 } from './wamp-value.js';

/** Below this a message is decoded whole: the head's separate decoding would cost more than it saves. */
export const BULK_MIN_BYTES = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_LIST = 0x5b;
const CLOSE_LIST = 0x5d;
/** `\u0000`, the escape of the NUL that marks a JSON string as bytes (WAMP's binary rule). */
const NUL_ESCAPE = Buffer.from('\\u0000', 'latin1');

/**
 * The message as `decodeWhole` would decode it, or undefined when it does not have the shape above.
 * `decodeWhole` decodes the head (a short message of its own); its errors mean "not this shape".
 */
export function decodeBulkBinaryTail(bytes: Uint8Array, decodeWhole: (head: Uint8Array) => unknown): unknown[] | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messageEnd = before(b, b.length);
  if (b[messageEnd] !== CLOSE_LIST) return undefined;
  const listEnd = before(b, messageEnd);
  if (b[listEnd] !== CLOSE_LIST) return undefined;
  const closingQuote = before(b, listEnd);
  if (b[closingQuote] !== QUOTE) return undefined;
  const openingQuote = b.lastIndexOf(QUOTE, closingQuote - 1);
  if (openingQuote < 0) return undefined;
  const base64From = openingQuote + 1 + NUL_ESCAPE.length;
  if (base64From > closingQuote || b.compare(NUL_ESCAPE, 0, NUL_ESCAPE.length, openingQuote + 1, base64From) !== 0) return undefined;
  const backslash = b.indexOf(BACKSLASH, base64From);
  if (backslash >= 0 && backslash < closingQuote) return undefined;
  const listStart = before(b, openingQuote);
  if (b[listStart] !== OPEN_LIST) return undefined;
  const comma = before(b, listStart);
  if (comma < 0 || b[comma] !== COMMA) return undefined;

  const headBytes = Buffer.allocUnsafe(comma + 1);
  b.copy(headBytes, 0, 0, comma);
  headBytes[comma] = CLOSE_LIST;
  let head: unknown;
  try {
    head = decodeWhole(headBytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(head) || head.length === 0) return undefined;
  const text = b.toString('latin1', base64From, closingQuote);
  const value = Buffer.from(text, 'base64');
  if (!isBase64(text, value.length)) return undefined;
  head.push([value]);
  return head;
}

/** The index of the last byte before `at` that is not JSON whitespace (-1 if none). */
function before(b: Buffer, at: number): number {
  let i = at - 1;
  while (i >= 0 && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i--;
  return i;
}
