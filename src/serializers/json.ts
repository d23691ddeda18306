import { Buffer } from 'node:buffer';
import { BULK_MIN_BYTES, decodeBulkBinaryTail } from './json-bulk.js';
import { jsonElementOffset, jsonLastBracket } from './json-scan.js';
import { DecodeError, type EncodedPayload, type Headroom, InvalidUtf8Error, type Serializer } from './serializer.js';
import { copyBytes, payloadView } from './splice.js';
import { adoptDecoded, MAX_DEPTH } from './wamp-value.js';

/** A JSON escape of a UTF-16 surrogate (paired or not: the walk tells them apart). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * `wamp.2.json`: UTF-8 JSON text. WAMP's binary rule applies both ways: a string that starts with
 * "\0" carries base64 after the NUL and is bytes in memory (WAMP spec, "Binary support in JSON").
 */
export class JsonSerializer implements Serializer {
  readonly id = 'json';
  readonly subprotocol = 'wamp.2.json';
  readonly rawsocketId = 1;
  readonly binary = false;

  // `fatal` makes malformed UTF-8 throw instead of becoming U+FFFD; it also checks and decodes in
  // one pass, faster than Buffer's isUtf8() followed by toString().
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  decode(bytes: Uint8Array): unknown {
    return (bytes.byteLength >= BULK_MIN_BYTES && decodeBulkBinaryTail(bytes, this.decodeWhole)) || this.decodeWhole(bytes);
  }

  private readonly decodeWhole = (bytes: Uint8Array): unknown => {
    let text: string;
    try {
      text = this.utf8.decode(bytes);
    } catch (err) {
      throw new InvalidUtf8Error('JSON message is not valid UTF-8', { cause: err });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new DecodeError(`malformed JSON message: ${(err as Error).message}`, { cause: err });
    }
    // A NUL can only appear in JSON text as the escape "\u0000": without one there is no binary.
    // Fixing strings up after a plain parse measured 3x faster than JSON.parse with a reviver.
    const jsonBinary = text.includes('\\u0000');
    // A lone surrogate can only come from an escape ("\ud800"): valid UTF-8 text has none.
    // (includes() first: it scans at memchr speed, the regex at a fraction of it, and every
    // binary string has a "\u0000".)
    const surrogates = (text.includes('\\ud') || text.includes('\\uD')) && SURROGATE_ESCAPE.test(text);
    // Nothing to adopt in a message without binary strings or surrogate escapes that is too short
    // to nest too deep: JSON.parse gives plain WAMP data. (Most RPC and event messages; the walk
    // was ~4% of a call.)
    if (!jsonBinary && !surrogates && bytes.byteLength <= MAX_DEPTH) return value;
    return adoptDecoded(value, bytes, { format: 'JSON', jsonBinary, surrogates });
  };

  encode(message: readonly unknown[]): Uint8Array {
    // (A test may hand in a non-list on purpose, to send garbage.)
    const size = Array.isArray(message) ? headSize(message) : -1;
    // Buffer#toJSON would give {type:'Buffer',data:[…]}; a replacer measured 2x slower than binaryToText.
    if (size < 0) return Buffer.from(JSON.stringify(binaryToText(message)), 'utf8');
    const out = Buffer.allocUnsafe(size + 1);
    writeHead(message, out, 0);
    out[size] = 0x5d; // ]
    return out;
  }

  payloadOf(message: Uint8Array, index: number, count: 1 | 2): EncodedPayload | undefined {
    const start = jsonElementOffset(message, index);
    const end = jsonLastBracket(message);
    return start < 0 || end < start ? undefined : { serializer: 'json', message, start, end, count };
  }

  encodeSpliced(head: readonly unknown[], payload: EncodedPayload, room?: Headroom): Buffer {
    const size = payload.end - payload.start;
    let text: string | undefined;
    let headLength = headSize(head);
    if (headLength < 0) {
      text = elementsText(head);
      headLength = Buffer.byteLength(text);
    }
    const length = headLength + 1 + size + 1;
    const front = room ? room.headroom(length) : 0;
    const out = Buffer.allocUnsafe(front + length);
    if (text === undefined) writeHead(head, out, front);
    else out.write(text, front, headLength, 'utf8');
    let at = front + headLength;
    out[at++] = 0x2c; // ,
    copyBytes(payload.message, payload.start, payload.end, out, at);
    out[out.length - 1] = 0x5d; // ]
    return out;
  }

  encodeSplicedParts(head: readonly unknown[], payload: EncodedPayload): Buffer[] {
    const headLength = headSize(head);
    let first: Buffer;
    if (headLength < 0) {
      first = Buffer.from(`${elementsText(head)},`, 'utf8');
    } else {
      first = Buffer.allocUnsafe(headLength + 1);
      writeHead(head, first, 0);
      first[headLength] = 0x2c; // ,
    }
    // The payload and the message's own closing bracket (payload.end is where it is).
    return [first, payloadView(payload, payload.end + 1)];
  }
}

/**
 * Bytes of "[" and a head of integers, plain strings and empty dicts (most message heads, see
 * writeHead), or -1 for any other head.
 */
function headSize(head: readonly unknown[]): number {
  let size = head.length; // "[" and the commas between elements
  for (let i = 0; i < head.length; i++) {
    const v = head[i];
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) return -1;
      size += digits(v);
    } else if (typeof v === 'string') {
      if (!isPlainText(v)) return -1;
      size += v.length + 2;
    } else if (isEmptyDict(v)) {
      size += 2;
    } else {
      return -1;
    }
  }
  return size;
}

/**
 * Writes "[" and a head that headSize accepted, at `at`. No string is built: for a short head,
 * building one and writing it cost several times more (bench/README.md, rpc).
 */
function writeHead(head: readonly unknown[], out: Buffer, at: number): void {
  out[at++] = 0x5b; // [
  for (let i = 0; i < head.length; i++) {
    if (i > 0) out[at++] = 0x2c;
    const v = head[i];
    if (typeof v === 'number') {
      at = writeInteger(out, at, v);
    } else if (typeof v === 'string') {
      out[at++] = 0x22;
      for (let k = 0; k < v.length; k++) out[at++] = v.charCodeAt(k);
      out[at++] = 0x22;
    } else {
      out[at++] = 0x7b;
      out[at++] = 0x7d;
    }
  }
}

/** Decimal digits of a safe integer, sign included. */
function digits(n: number): number {
  const sign = n < 0 ? 1 : 0;
  const v = Math.abs(n);
  return sign + (v < 1e8 ? smallDigits(v) : smallDigits(Math.floor(v / 1e8)) + 8);
}

function smallDigits(v: number): number {
  if (v < 1e4) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : 4;
  return v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : 8;
}

/**
 * Writes a safe integer in decimal. Above 10^8 it is split in two parts below 10^8, so every
 * division is on 32-bit integers (a 53-bit ID, as registration IDs are, converted to a string
 * cost ~100 ns; this, a tenth of that).
 */
function writeInteger(out: Buffer, at: number, n: number): number {
  if (n < 0) {
    out[at++] = 0x2d; // -
    n = -n;
  }
  if (n < 1e8) return writeDigits(out, at, n, smallDigits(n));
  const high = Math.floor(n / 1e8);
  at = writeDigits(out, at, high, smallDigits(high));
  return writeDigits(out, at, n - high * 1e8, 8);
}

/** `count` digits of `v` (< 10^8), zero-padded on the left. */
function writeDigits(out: Buffer, at: number, v: number, count: number): number {
  let rest = v | 0;
  for (let i = at + count - 1; i >= at; i--) {
    const q = (rest / 10) | 0;
    out[i] = 0x30 + rest - q * 10;
    rest = q;
  }
  return at + count;
}

const SHORT_TEXT = 256;

/**
 * "[" and the elements of a head that headSize refused (a non-empty dict, a string that needs
 * escapes), as text without the closing bracket.
 */
function elementsText(message: readonly unknown[]): string {
  let text = '[';
  for (let i = 0; i < message.length; i++) {
    if (i > 0) text += ',';
    text += elementText(message[i]);
  }
  return text;
}

function elementText(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return `${value}`;
  if (typeof value === 'string') return isPlainText(value) ? `"${value}"` : JSON.stringify(value);
  if (isEmptyDict(value)) return '{}';
  return JSON.stringify(binaryToText(value)) ?? 'null';
}

/** Printable ASCII without quote or backslash: JSON needs no escapes (URIs, mostly). */
function isPlainText(s: string): boolean {
  if (s.length > SHORT_TEXT) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function isEmptyDict(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const _key in value) return false;
  return true;
}

/** Copy-on-write: the input itself when it holds no bytes, else a copy of the paths to them. */
function binaryToText(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) {
    const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return '\u0000' + buf.toString('base64');
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const text = binaryToText(item);
      if (text !== item) (copy ??= value.slice())[i] = text;
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const item = record[key];
    const text = binaryToText(item);
    if (text !== item) (copy ??= { ...record })[key] = text;
  }
  return copy ?? value;
}
