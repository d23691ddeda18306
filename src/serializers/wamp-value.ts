import { Buffer } from 'node:buffer';
import { DecodeError } from './serializer.js';

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
 * Each value of a tree costs at least one input byte, so a value with more nodes than its input has
 * bytes shares substructures (a DAG or a cycle); `byteLength` caps the walk and refuses it.
 *
 * Bytes are copied into Node's buffer pool: decoders hand out views of the input, which would keep
 * the whole receive buffer alive and change if a transport reused it. (Their own `copyBuffers`
 * option allocates a fresh ArrayBuffer per value, several times slower.)
 */
export function adoptDecoded(value: unknown, byteLength: number, options: AdoptOptions): unknown {
  const walk = new Walk(byteLength, options);
  try {
    return walk.visit(value, 0);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`${options.format} message could not be checked: ${String(err)}`, { cause: err });
  }
}

class Walk {
  private budget: number;

  constructor(
    byteLength: number,
    private readonly options: AdoptOptions,
  ) {
    this.budget = byteLength;
  }

  visit(value: unknown, depth: number): unknown {
    if (--this.budget < 0) {
      throw new DecodeError(`${this.options.format} message shares substructures (references are not WAMP data)`);
    }
    switch (typeof value) {
      case 'string':
        return this.options.jsonBinary && value.charCodeAt(0) === 0 ? this.jsonBytes(value) : value;
      case 'number':
      case 'boolean':
      case 'undefined':
        return value;
      case 'object':
        if (value === null) return value;
        if (value instanceof Uint8Array) return Buffer.from(value);
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
            const item = value[key];
            const adopted = this.visit(item, depth + 1);
            if (adopted !== item) value[key] = adopted;
          }
          return value;
        }
        throw this.notWampData(value.constructor?.name ?? 'object');
      default:
        throw this.notWampData(typeof value);
    }
  }

  private jsonBytes(text: string): Buffer {
    const b64 = text.slice(1);
    if (!isBase64(b64)) {
      throw new DecodeError('JSON message has a "\\u0000" binary string that is not valid base64');
    }
    return Buffer.from(b64, 'base64');
  }

  private notWampData(kind: string): DecodeError {
    return new DecodeError(`${this.options.format} message contains a value that is not WAMP data: ${kind}`);
  }
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard alphabet, padded or not; a length of 4n+1 cannot come from any byte string. */
function isBase64(text: string): boolean {
  if (!BASE64.test(text)) return false;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const data = text.length - padding;
  return data % 4 !== 1 && (padding === 0 || text.length % 4 === 0);
}
