/**
 * Payload transparency (WAMP advanced profile "Payload Passthru Mode"; Autobahn|Python's and
 * Crossbar.io's older names `enc_algo`/`enc_key`/`enc_serializer`): a publisher, caller or callee
 * encodes (or encrypts: cryptobox; or encodes with a codec of its own) Arguments|ArgumentsKw
 * itself and sends one binary value in the Arguments slot. The router does not read it: it passes
 * the bytes on bare in that slot, and the options that describe them into the receiver's details.
 */
import type { Dict } from './messages.js';

/** The options that describe a transparent payload, copied to EVENT/INVOCATION/RESULT/ERROR details. */
export const PPT_KEYS = ['ppt_scheme', 'ppt_serializer', 'ppt_cipher', 'ppt_keyid', 'enc_algo', 'enc_key', 'enc_serializer'] as const;

/** Whether `d` (a message's Options or Details) says its payload is transparent. */
export function isTransparent(d: Dict | undefined): boolean {
  return d !== undefined && (typeof d.ppt_scheme === 'string' || typeof d.enc_algo === 'string');
}

/** The PPT keys of `d` with string values, or undefined when it names no scheme. */
export function transparencyOf(d: Dict): Dict | undefined {
  if (!isTransparent(d)) return undefined;
  const out: Dict = {};
  for (const k of PPT_KEYS) if (typeof d[k] === 'string') out[k] = d[k];
  return out;
}

/** A transparent payload as the router carries it: Arguments holding the one binary value. */
export function isTransparentArgs(args: readonly unknown[] | undefined): boolean {
  return args !== undefined && args.length === 1 && args[0] instanceof Uint8Array;
}
