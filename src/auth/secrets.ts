/**
 * Comparing secrets without leaking, through timing, how much of a guess was right. Both sides
 * are hashed first, so the comparison takes the same time whatever their lengths.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (v: string | Uint8Array): Buffer => createHash('sha256').update(v).digest();

/** Constant-time equality of two strings or byte arrays (equal SHA-256 digests). */
export function secretsEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
