/** Largest WAMP ID: IDs are integers in [1, 2^53] (basic/building_blocks.md, Identifiers). */
export const MAX_ID = 2 ** 53;

export function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_ID;
}

/** A global-scope ID, drawn uniformly from [1, 2^53]. */
export function randomId(): number {
  // 53 random bits from two 32-bit draws; Math.random is fine: IDs need uniqueness, not secrecy.
  const high = Math.floor(Math.random() * 2 ** 21);
  const low = Math.floor(Math.random() * 2 ** 32);
  return high * 2 ** 32 + low + 1 > MAX_ID ? MAX_ID : high * 2 ** 32 + low + 1;
}

/** Router-scope IDs: sequential from 1, wrapping at 2^53. */
export class IdSequence {
  private last = 0;
  next(): number {
    this.last = this.last >= MAX_ID ? 1 : this.last + 1;
    return this.last;
  }
}
