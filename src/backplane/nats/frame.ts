/**
 * Frames exchanged between nodes: one MessagePack array [kind, meta, args?, kwargs?]. No NATS
 * headers (they cost 40–55% of throughput, design/cluster.md §3). The payload is encoded once at
 * the origin and decoded once per receiving node, which then fans out locally.
 */
import { serializerById } from '../../serializers/index.js';
import type { Args, Dict, Kwargs } from '../../wamp/messages.js';

export const FrameKind = {
  event: 1,
  invoke: 2,
  chunk: 3,
  cancel: 4,
  progress: 5,
  result: 6,
  error: 7,
  reject: 8,
  heartbeat: 9,
  bye: 10,
  meta: 11,
} as const;

export interface Frame {
  readonly kind: number;
  readonly meta: Dict;
  readonly args: Args;
  readonly kwargs: Kwargs;
}

const msgpack = serializerById('msgpack')!;

export function encodeFrame(kind: number, meta: Dict, args?: Args, kwargs?: Kwargs): Uint8Array {
  const parts: unknown[] = [kind, meta];
  if (args !== undefined || kwargs !== undefined) parts.push(args ?? [], kwargs ?? {});
  return msgpack.encode(parts);
}

/** Decodes a frame; undefined for anything malformed (logged by the caller, never thrown). */
export function decodeFrame(bytes: Uint8Array): Frame | undefined {
  let v: unknown;
  try {
    v = msgpack.decode(bytes);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || typeof v[0] !== 'number' || typeof v[1] !== 'object' || v[1] === null) return undefined;
  const args = Array.isArray(v[2]) && v[2].length > 0 ? (v[2] as unknown[]) : undefined;
  const kwargs = typeof v[3] === 'object' && v[3] !== null && Object.keys(v[3] as object).length > 0 ? (v[3] as Dict) : undefined;
  return { kind: v[0] as number, meta: v[1] as Dict, args, kwargs };
}
