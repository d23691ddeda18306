/**
 * Strict query strings for the console's JSON endpoints: only the parameters an endpoint names
 * (plus `token`, which the access gate reads), each at most once, each value checked. Anything
 * else is a `QueryError`, which the endpoint answers with 400 and the reason.
 */
export class QueryError extends Error {}

/** Turns one parameter's text into its value, or throws a QueryError saying what it must be. */
export type ParamParser<T> = (text: string, name: string) => T;

const MAX_QUERY = 2048;

export function parseQuery<P extends Record<string, ParamParser<unknown>>>(
  url: string | undefined, params: P,
): { [K in keyof P]?: ReturnType<P[K]> } {
  const q = (url ?? '').indexOf('?');
  const text = q < 0 ? '' : (url ?? '').slice(q + 1);
  if (text.length > MAX_QUERY) throw new QueryError(`query string longer than ${MAX_QUERY} characters`);
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const part of text === '' ? [] : text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value = decode(eq < 0 ? '' : part.slice(eq + 1));
    if (seen.has(name)) throw new QueryError(`parameter "${name}" given twice`);
    seen.add(name);
    if (name === 'token') continue;
    const parse = params[name];
    if (parse === undefined) {
      const allowed = [...Object.keys(params), 'token'].join(', ');
      throw new QueryError(`unknown parameter "${clip(name)}" (allowed: ${allowed})`);
    }
    out[name] = parse(value, name);
  }
  return out as { [K in keyof P]?: ReturnType<P[K]> };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new QueryError(`malformed percent-encoding in ${JSON.stringify(clip(s))}`);
  }
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** An integer in [min, max]. */
export function intParam(min: number, max: number): ParamParser<number> {
  return (text, name) => {
    if (!/^\d{1,16}$/.test(text)) throw new QueryError(`parameter "${name}" must be an integer from ${min} to ${max}, got ${JSON.stringify(clip(text))}`);
    const n = Number(text);
    if (n < min || n > max) throw new QueryError(`parameter "${name}" must be an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

/** A non-empty string of at most `max` characters. */
export function textParam(max: number): ParamParser<string> {
  return (text, name) => {
    if (text === '' || text.length > max) throw new QueryError(`parameter "${name}" must be 1 to ${max} characters`);
    return text;
  };
}
