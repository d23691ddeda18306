/**
 * Small zod builders shared by the config schemas. Every builder attaches its own message, so a
 * problem reads the same wherever it occurs. Message convention (read by `issues.ts`):
 *
 * - an expectation starts with "expected " and never names the value: `issues.ts` appends
 *   ", got <value>" (or reports the key as missing);
 * - an optional hint follows the expectation after a newline and is printed after the value;
 * - a refinement ("custom" issue) carries a complete sentence and is printed as is.
 */
import { z } from 'zod';

/** Message for an issue, given the value zod saw. */
type ErrorFn = (issue: { readonly code?: string; readonly input?: unknown; readonly discriminator?: string }) => string;

export const json = (v: unknown): string => JSON.stringify(v);
const list = (values: readonly unknown[]): string => values.map(json).join(', ');

/** One expectation for every issue a schema can raise. */
export const expect = (text: string): { error: ErrorFn } => ({ error: () => `expected ${text}` });

/**
 * Values Crossbar.io accepts that xbar does not implement: a list, or a map from each value to
 * what to do instead (printed after the refusal).
 */
export type CrossbarOnly = readonly string[] | Readonly<Record<string, string>>;

/**
 * The value of a `type`-like field, or of the discriminator of a union, that xbar accepts.
 * `crossbarOnly` names values Crossbar.io accepts but xbar does not implement, for a clearer hint.
 */
export function kindError(what: string, allowed: readonly string[], crossbarOnly: CrossbarOnly = []): ErrorFn {
  const hints: Readonly<Record<string, string>> = Array.isArray(crossbarOnly)
    ? Object.fromEntries((crossbarOnly as readonly string[]).map((v) => [v, '']))
    : (crossbarOnly as Readonly<Record<string, string>>);
  return (issue) => {
    // A union chosen by a key needs an object to look into.
    if (issue.code === 'invalid_type') return 'expected object';
    const input = issue.input;
    const value =
      issue.discriminator !== undefined && typeof input === 'object' && input !== null
        ? (input as Record<string, unknown>)[issue.discriminator]
        : input;
    const expectation = allowed.length === 1 ? `expected ${json(allowed[0])}` : `expected one of ${list(allowed)}`;
    if (typeof value !== 'string' || !Object.hasOwn(hints, value)) return expectation;
    const hint = hints[value];
    return hint
      ? `${expectation}\n${json(value)} is a Crossbar.io ${what} that xbar does not run: ${hint}`
      : `${expectation}\n${json(value)} is a Crossbar.io ${what} that xbar does not run: use ${allowed.map((v) => json(v)).join(' or ')}`;
  };
}

/** An enum of strings, with the allowed values in its message. */
export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
  what = 'value',
  crossbarOnly: readonly string[] = [],
) {
  return z.enum(values, { error: kindError(what, values, crossbarOnly) });
}

/** A literal discriminator (`type: "router"`). */
export function tag<const T extends string>(value: T, what: string, crossbarOnly: readonly string[] = []) {
  return z.literal(value, { error: kindError(what, [value], crossbarOnly) });
}

/** A union chosen by its `type` key, with the allowed types in its message. */
export function byType<const T extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]]>(
  what: string,
  allowed: readonly string[],
  crossbarOnly: CrossbarOnly,
  options: T,
) {
  return z.discriminatedUnion('type', options, { error: kindError(what, allowed, crossbarOnly) });
}

/** An integer in [min, max]; `unit` (e.g. "bytes") is named in the message. */
export function int(min: number, max: number, unit = '') {
  const text =
    max === Number.MAX_SAFE_INTEGER ? `integer >= ${min}` : `integer ${min}-${max}`;
  return z.int(expect(unit ? `${text} (${unit})` : text)).min(min).max(max);
}

export const bool = () => z.boolean(expect('true or false'));
export const str = () => z.string(expect('string'));
export const nonEmpty = () => z.string(expect('non-empty string')).min(1);
export const strings = () => z.array(z.string(expect('string')), expect('list of strings'));

/** A value that must equal `value`: Crossbar.io also accepts others, which xbar does not implement. */
export function only<const T extends boolean | string>(value: T, why: string) {
  return z.literal(value, { error: () => `expected ${json(value)}\n${why}` });
}

/**
 * A key Crossbar.io defines but xbar does not implement: accepted only when absent, so a config
 * that relies on it fails loudly instead of running without it.
 */
export function unsupported(hint = 'a Crossbar.io feature xbar does not run yet; remove the key to start without it') {
  return z.unknown().refine((v) => v === undefined, { message: hint });
}

/**
 * A strict object: unknown keys are errors whose message lists the allowed keys. Keys in
 * `unsupportedKeys` are known Crossbar.io keys that xbar rejects with a hint instead (`hints`
 * overrides the hint per key); they are not listed as allowed.
 */
export function strict<S extends z.core.$ZodLooseShape>(
  shape: S,
  unsupportedKeys: readonly string[] = [],
  hints: Readonly<Record<string, string>> = {},
) {
  const allowed = Object.keys(shape).join(', ') || '(no keys)';
  // Typed as no keys: a rejected key never survives validation, so the output type omits it.
  const rejected = Object.fromEntries(unsupportedKeys.map((key) => [key, unsupported(hints[key]).optional()])) as Record<
    never,
    never
  >;
  return z
    .strictObject(shape, {
      error: (issue) => (issue.code === 'unrecognized_keys' ? `allowed: ${allowed}` : 'expected object'),
    })
    .extend(rejected);
}

/** A list; `what` names the items in the message. */
export function listOf<T extends z.core.$ZodType>(item: T, what: string, min = 0) {
  return z
    .array(item, expect(`list of ${what}`))
    .min(min, { error: () => `expected a list of at least ${min} ${what}` });
}

/** A non-empty list in which no value appears twice, e.g. serializers. */
export function uniqueList<T extends z.core.$ZodType<string>>(item: T, what: string) {
  return listOf(item, what, 1).check((ctx) => {
    const seen = new Set<unknown>();
    ctx.value.forEach((value, index) => {
      if (seen.has(value)) {
        ctx.issues.push({ code: 'custom', message: `${json(value)} is listed twice`, path: [index], input: value });
      }
      seen.add(value);
    });
  });
}
