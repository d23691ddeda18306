/**
 * About how many bytes a WAMP value takes encoded (MessagePack's sizes, a 5-byte header per
 * string, bytes, list or dict): what the byte limits on retained events and testaments count.
 * It walks the value once; values come from decoders that bound their depth (wamp-value.ts).
 */
import { Buffer } from 'node:buffer';
import type { Args, Kwargs } from '../../wamp/messages.js';

const HEADER = 5;

export function valueSize(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return HEADER + Buffer.byteLength(v, 'utf8');
    case 'number':
    case 'bigint':
      return 9;
    case 'object': {
      if (v === null) return 1;
      if (v instanceof Uint8Array) return HEADER + v.byteLength;
      let n = HEADER;
      if (Array.isArray(v)) {
        for (const item of v) n += valueSize(item);
      } else {
        for (const [key, item] of Object.entries(v)) n += HEADER + Buffer.byteLength(key, 'utf8') + valueSize(item);
      }
      return n;
    }
    default:
      return 1;
  }
}

/** The size of a publication: its topic and payload. */
export function publicationSize(topic: string, args: Args, kwargs: Kwargs): number {
  return Buffer.byteLength(topic, 'utf8') + (args === undefined ? 0 : valueSize(args)) + (kwargs === undefined ? 0 : valueSize(kwargs));
}
