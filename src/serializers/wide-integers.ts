/**
 * msgpackr and cbor-x write any integer outside the 32-bit range as a float64, whatever the options.
 * WAMP IDs reach 2^53, and typed peers (Autobahn|Python, nexus) refuse a float where the spec wants
 * an integer. Both libraries write a BigInt as int64/uint64, so integers beyond 32 bits are
 * turned into BigInts before encoding. Integers beyond ±2^53 stay floats: JS lost their exact value.
 *
 * Copy-on-write: returns the input itself when nothing needs widening, else a copy of only the
 * arrays and objects on the path to a widened number.
 */
export function widenIntegers(value: unknown): unknown {
  if (typeof value === 'number') return needsWidening(value) ? BigInt(value) : value;
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const widened = widenIntegers(item);
      if (widened !== item) (copy ??= value.slice())[i] = widened;
    }
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    const item = record[key];
    const widened = widenIntegers(item);
    if (widened !== item) (copy ??= { ...record })[key] = widened;
  }
  return copy ?? value;
}

// WAMP IDs go up to 2^53 inclusive, one past Number.MAX_SAFE_INTEGER, and 2^53 is still exact.
const MAX_EXACT = 2 ** 53;

function needsWidening(n: number): boolean {
  return (n > 0xffffffff || n < -0x80000000) && n <= MAX_EXACT && n >= -MAX_EXACT && Number.isInteger(n);
}
