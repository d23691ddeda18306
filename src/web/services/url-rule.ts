/**
 * Werkzeug URL rules as the `wap` service's routes write them ("/greeting/<name>",
 * "/product/<int:product_id>/<report>"): static text and `<converter(args):name>` variables with
 * Werkzeug's converters — `string`/`default` (one component, optional `length`, `minlength`,
 * `maxlength`), `int` and `float` (unsigned, with optional `min`/`max`), `path` (components with
 * "/"), `any(a, b, …)` and `uuid`. A rule matches the whole path; consecutive slashes count as
 * one (Werkzeug's `merge_slashes`).
 */

export type RuleValue = string | number;

interface Variable {
  readonly name: string;
  readonly convert: (s: string) => RuleValue | undefined;
}

export class UrlRule {
  private readonly regex: RegExp;
  private readonly variables: Variable[] = [];

  constructor(readonly rule: string) {
    let source = '^';
    let last = 0;
    const part = /<(?:([a-zA-Z_][a-zA-Z0-9_]*)(?:\(([^)]*)\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>/g;
    const text = mergeSlashes(rule);
    for (let m = part.exec(text); m !== null; m = part.exec(text)) {
      source += escapeRegExp(text.slice(last, m.index));
      const [pattern, convert] = converter(m[1] ?? 'default', parseArgs(m[2] ?? ''), rule);
      source += `(${pattern})`;
      this.variables.push({ name: m[3]!, convert });
      last = m.index + m[0].length;
    }
    source += `${escapeRegExp(text.slice(last))}$`;
    this.regex = new RegExp(source, 'u');
  }

  /** The variables of a matching path (already percent-decoded), or undefined. */
  match(path: string): Record<string, RuleValue> | undefined {
    const m = this.regex.exec(mergeSlashes(path));
    if (m === null) return undefined;
    const out: Record<string, RuleValue> = {};
    for (let i = 0; i < this.variables.length; i++) {
      const v = this.variables[i]!;
      const value = v.convert(m[i + 1]!);
      if (value === undefined) return undefined;
      out[v.name] = value;
    }
    return out;
  }
}

function mergeSlashes(s: string): string {
  return s.replace(/\/{2,}/g, '/');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `length=2, maxlength=5` or `'a', 'b'` → named and positional arguments. */
function parseArgs(s: string): { named: Map<string, string>; positional: string[] } {
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const raw of s.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const eq = raw.indexOf('=');
    const unquote = (v: string) => v.trim().replace(/^(['"])(.*)\1$/, '$2');
    if (eq > 0) named.set(raw.slice(0, eq).trim(), unquote(raw.slice(eq + 1)));
    else positional.push(unquote(raw));
  }
  return { named, positional };
}

function bounded(n: number, named: Map<string, string>): number | undefined {
  const min = named.get('min');
  const max = named.get('max');
  if (min !== undefined && n < Number(min)) return undefined;
  if (max !== undefined && n > Number(max)) return undefined;
  return n;
}

function converter(name: string, args: ReturnType<typeof parseArgs>, rule: string): [string, (s: string) => RuleValue | undefined] {
  const { named, positional } = args;
  switch (name) {
    case 'default':
    case 'string': {
      const length = named.get('length') ?? positional[0];
      const min = length ?? named.get('minlength') ?? '1';
      const max = length ?? named.get('maxlength') ?? '';
      return [`[^/]{${Number(min)},${max === '' ? '' : Number(max)}}`, (s) => s];
    }
    case 'int':
      return ['\\d+', (s) => bounded(Number.parseInt(s, 10), named)];
    case 'float':
      return ['\\d+\\.\\d+', (s) => bounded(Number.parseFloat(s), named)];
    case 'path':
      return ['[^/].*?', (s) => s];
    case 'uuid':
      return ['[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}', (s) => s];
    case 'any':
      return [`(?:${positional.map(escapeRegExp).join('|')})`, (s) => s];
    default:
      throw new Error(`unknown converter "${name}" in route ${JSON.stringify(rule)}`);
  }
}
