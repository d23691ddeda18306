/**
 * Turns zod issues into one line per problem, each headed by the exact key path in the document:
 *
 *   workers[0].transports[1].endpoint.port: expected integer 1-65535, got "80a"
 *   workers[0].foo: unknown key; allowed: type, id, options, realms, transports
 *
 * The value shown after "got" is read from the document itself, so the line shows what the user
 * wrote. Messages follow the convention described in `schema-kit.ts`.
 */
import type { z } from 'zod';

export type KeyPath = readonly PropertyKey[];

/** Every problem found in one configuration, one line each. */
export class ConfigError extends Error {
  readonly problems: string[];
  /** The file name, or a label such as "embedded default". */
  readonly source: string;

  constructor(source: string, problems: readonly string[]) {
    const n = problems.length;
    super(`${source}: ${n} configuration problem${n === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.problems = [...problems];
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `workers[0].paths["/"]`; the empty path is the document itself. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(top level)' : out;
}

/** The value at `path`, and whether the key exists at all. */
export function lookup(doc: unknown, path: KeyPath): { found: boolean; value: unknown } {
  let value = doc;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return { found: false, value: undefined };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value };
}

const MAX_SHOWN = 60;

/** The value as the user wrote it, in JSON, shortened. */
export function describe(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

/** What the schema wanted, for an issue whose message zod wrote itself. */
function defaultExpectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => describe(v)).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union reports the allowed discriminator values in `options`.
      const options = (issue as { options?: readonly unknown[] }).options;
      return options === undefined ? 'expected a valid value' : `expected one of ${options.map(describe).join(', ')}`;
    }
    case 'too_small':
      return `expected ${issue.origin} >= ${String(issue.minimum)}`;
    case 'too_big':
      return `expected ${issue.origin} <= ${String(issue.maximum)}`;
    default:
      return `expected a valid value (${issue.message})`;
  }
}

/** One issue → one or more lines. */
export function issueLines(issue: z.core.$ZodIssue, doc: unknown): string[] {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const listed = issue.message.startsWith('allowed: ');
    const allowed = listed ? `; ${issue.message}` : '';
    const keys = listed ? issue.message.slice('allowed: '.length).split(', ') : [];
    return issue.keys.map((key) => {
      const near = closest(key, keys);
      return `${formatPath([...issue.path, key])}: unknown key${near === undefined ? '' : `; did you mean ${near}?`}${allowed}`;
    });
  }
  if (issue.code === 'custom') return [`${at}: ${issue.message}`];
  if (issue.code === 'invalid_key') {
    const key = issue.path[issue.path.length - 1];
    const inner = issue.issues[0]?.message ?? 'invalid key';
    return [`${at}: invalid key ${describe(key)}; ${inner}`];
  }
  const [expectation = '', hint] = (issue.message.startsWith('expected ') ? issue.message : defaultExpectation(issue)).split('\n');
  const { found, value } = lookup(doc, issue.path);
  const head = found ? `${expectation}, got ${describe(value)}` : `missing; ${expectation}`;
  return [`${at}: ${head}${hint === undefined ? '' : `; ${hint}`}`];
}

/** Edits (insert, delete, substitute, swap neighbours) from `a` to `b`. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The allowed key a mistyped one most likely meant: same up to case and "-"/"_", or a few edits away. */
export function closest(key: string, allowed: readonly string[]): string | undefined {
  const fold = (k: string) => k.toLowerCase().replaceAll('-', '_');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = fold(candidate) === fold(key) ? 0 : distance(fold(key), fold(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 4)) ? best : undefined;
}

/** All issues of one parse, in document order as zod reports them. */
export function problemsOf(error: z.core.$ZodError, doc: unknown): string[] {
  return error.issues.flatMap((issue) => issueLines(issue, doc));
}
