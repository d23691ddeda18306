/// <reference lib="es2024.string" />
import { Buffer } from 'node:buffer';
import { DecodeError, IllFormedTextError } from './serializer.js';
import { VIEW_PAYLOAD_MIN } from './splice.js';

/**
 * Deepest nesting a decoded message may have (the message array itself is level 1). Every encoder
 * recurses, so a message decoded without a bound could not be re-encoded for its receivers.
 */
export const MAX_DEPTH = 128;

export interface AdoptOptions {
  /** Names the wire format in error messages. */
  readonly format: string;
  /** Turn strings that start with "\0" into bytes (JSON's binary rule). */
  readonly jsonBinary: boolean;
  /** JSON: look for lone UTF-16 surrogates (asked only when the text has a surrogate escape). */
  readonly surrogates?: boolean;
  /**
   * MessagePack and CBOR: their decoders turn bytes that are not UTF-8 into U+FFFD, so a string
   * with U+FFFD may hide some; this checks the strings of the message's bytes.
   */
  readonly utf8Strings?: (bytes: Uint8Array) => boolean;
  /**
   * MessagePack and CBOR: their decoders rename a "__proto__" key to "__proto_" (against
   * prototype pollution); on such a key the message is decoded again with maps as `Map`s by this.
   */
  readonly decodeMaps?: (bytes: Uint8Array) => unknown;
}

/**
 * Turns a freshly decoded value into WAMP data, in place, or throws `DecodeError`.
 *
 * WAMP data is null, booleans, numbers, strings, bytes (`Uint8Array`), arrays and plain objects;
 * `undefined` is tolerated (CBOR has it; every encoder writes it as null). msgpackr and cbor-x also
 * decode extensions and tags no WAMP peer sends, whatever their options: dates, sets, errors,
 * regexps, bigints, other typed arrays and (cbor-x tags 28/29) shared or cyclic references. Those
 * could not be re-encoded for another serializer, so they are refused.
 *
 * Every string must be Unicode text that UTF-8 can carry: otherwise `IllFormedTextError` (no
 * serializer may emit invalid UTF-8, and a binary receiver's decoder fails on it).
 *
 * Keys are kept as they came, "__proto__" too: a map decoded as `Map` becomes a plain object whose
 * "__proto__" is an own property (`defineProperty`), never the object's prototype.
 *
 * Each value of a tree costs at least one input byte, so a value with more nodes than its input has
 * bytes shares substructures (a DAG or a cycle); the byte length caps the walk and refuses it.
 *
 * Bytes are copied into Node's buffer pool: decoders hand out views of the input, which would keep
 * the whole receive buffer alive. (Their own `copyBuffers` option allocates a fresh ArrayBuffer per
 * value, several times slower.) Except large ones that are most of their message: those stay views
 * (a copy of a 1 MiB payload cost as much as the rest of its way through the router), keeping at
 * most twice their size alive. No transport reuses or changes a buffer it has delivered.
 */
export function adoptDecoded(value: unknown, bytes: Uint8Array, options: AdoptOptions): unknown {
  try {
    const walk = new Walk(bytes.byteLength, options);
    let adopted = walk.visit(value, 0);
    if (walk.suspectText && !options.utf8Strings!(bytes)) {
      throw new IllFormedTextError(`${options.format} message has a string that is not valid UTF-8`, adopted);
    }
    if (walk.renamedKey) adopted = new Walk(bytes.byteLength, options, true).visit(options.decodeMaps!(bytes), 0);
    return adopted;
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`${options.format} message could not be checked: ${String(err)}`, { cause: err });
  }
}

/** Which check strings get: none, lone surrogates (JSON), U+FFFD as a hint of bad bytes (binary). */
const enum TextCheck { none, surrogates, replacement }

/** What the decoders make of a "__proto__" key. */
const RENAMED_PROTO = '__proto_';

class Walk {
  private budget: number;
  private readonly messageBytes: number;
  /** A string had U+FFFD, which may stand for bytes that were not UTF-8. */
  suspectText = false;
  /** A key may be a renamed "__proto__". */
  renamedKey = false;
  /** The root value, for the error that names its request. */
  private root: unknown;

  constructor(
    byteLength: number,
    private readonly options: AdoptOptions,
    /** Maps are `Map`s here (the slow path); anywhere else a `Map` is a tag no WAMP peer sends. */
    private readonly maps = false,
  ) {
    this.budget = byteLength;
    this.messageBytes = byteLength;
    this.textCheck = options.surrogates ? TextCheck.surrogates : options.utf8Strings ? TextCheck.replacement : TextCheck.none;
  }

  private readonly textCheck: TextCheck;

  visit(value: unknown, depth: number): unknown {
    if (depth === 0) this.root = value;
    if (--this.budget < 0) {
      throw new DecodeError(`${this.options.format} message shares substructures (references are not WAMP data)`);
    }
    switch (typeof value) {
      case 'string':
        this.text(value);
        return this.options.jsonBinary && value.charCodeAt(0) === 0 ? this.jsonBytes(value) : value;
      case 'number':
      case 'boolean':
      case 'undefined':
        return value;
      case 'object':
        if (value === null) return value;
        if (value instanceof Uint8Array) return this.bytes(value);
        if (depth === MAX_DEPTH) {
          throw new DecodeError(`${this.options.format} message is nested deeper than ${MAX_DEPTH} levels`);
        }
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const item: unknown = value[i];
            const adopted = this.visit(item, depth + 1);
            if (adopted !== item) value[i] = adopted;
          }
          return value;
        }
        if (isPlainObject(value)) {
          for (const key in value) {
            this.key(key);
            const item = value[key];
            const adopted = this.visit(item, depth + 1);
            if (adopted !== item) value[key] = adopted;
          }
          return value;
        }
        if (this.maps && value instanceof Map) return this.mapToObject(value, depth);
        throw this.notWampData(value.constructor?.name ?? 'object');
      default:
        throw this.notWampData(typeof value);
    }
  }

  private bytes(value: Uint8Array): Buffer {
    const n = value.byteLength;
    if (n >= VIEW_PAYLOAD_MIN && 2 * n >= this.messageBytes) return Buffer.from(value.buffer, value.byteOffset, n);
    return Buffer.from(value);
  }

  private text(s: string): void {
    if (this.textCheck === TextCheck.none) return;
    if (this.textCheck === TextCheck.surrogates) {
      if (!s.isWellFormed()) {
        throw new IllFormedTextError(
          `${this.options.format} message has a string with a lone UTF-16 surrogate (an escape such as "\\ud800" without its pair), which no serializer can pass on`,
          this.root,
        );
      }
    } else if (!this.suspectText && s.includes('\ufffd')) {
      this.suspectText = true;
    }
  }

  private key(k: string): void {
    this.text(k);
    if (k.length === RENAMED_PROTO.length && k === RENAMED_PROTO && this.options.decodeMaps) this.renamedKey = true;
  }

  /** A map decoded as `Map` (the slow path for renamed keys) as a plain object with exactly its keys. */
  private mapToObject(map: Map<unknown, unknown>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of map) {
      const key = propertyName(k, this.options.format);
      this.text(key);
      Object.defineProperty(out, key, { value: this.visit(v, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  private jsonBytes(text: string): Buffer {
    const b64 = text.slice(1);
    const bytes = Buffer.from(b64, 'base64');
    if (!isBase64(b64, bytes.length)) {
      throw new DecodeError('JSON message has a "\\u0000" binary string that is not valid base64');
    }
    return bytes;
  }

  private notWampData(kind: string): DecodeError {
    return new DecodeError(`${this.options.format} message contains a value that is not WAMP data: ${kind}`);
  }
}

/** A map key as the decoders make it a property name when they decode maps as objects. */
function propertyName(k: unknown, format: string): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'boolean' || typeof k === 'bigint' || k === null || k === undefined) return String(k);
  throw new DecodeError(`${format} message has a map key that is not a string or number`);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Standard alphabet, padded or not; a length of 4n+1 cannot come from any byte string. `decoded`:
 * the length Node's decoder made of it. That decoder skips what is not in its alphabet (which has
 * the URL-safe "-" and "_" too), so the text is standard base64 exactly when nothing was skipped
 * and neither of those is in it — a check at memchr speed (a regex over a 1 MiB payload's text
 * took 8 ms, six times the decoding).
 */
export function isBase64(text: string, decoded: number): boolean {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const data = text.length - padding;
  if (data % 4 === 1 || (padding !== 0 && text.length % 4 !== 0)) return false;
  return decoded === Math.floor((data * 3) / 4) && !text.includes('-') && !text.includes('_');
}
