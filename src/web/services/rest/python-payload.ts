/**
 * How Crossbar.io's bridge turns a request's `args`, `kwargs` and `options` into Python call
 * arguments (`*args`, `**kwargs`, `PublishOptions(...)`), with Python's rules: a falsy value is
 * none; `*args` of a string is its characters and of a dict its keys; anything else that is not
 * a list, or `**kwargs` of a non-dict, is a TypeError — an unhandled failure, Crossbar.io's 500.
 */
export class PythonTypeError extends Error {}

export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `*value` as positional arguments. */
export function starArgs(v: unknown): unknown[] {
  if (!truthy(v)) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isDict(v)) return Object.keys(v);
  throw new PythonTypeError('argument after * must be an iterable');
}

/** `**value` as keyword arguments (a copy). */
export function starKwargs(v: unknown): Record<string, unknown> {
  if (!truthy(v)) return {};
  if (isDict(v)) return { ...v };
  throw new PythonTypeError('argument after ** must be a mapping');
}

const isInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x);
const isStr = (x: unknown) => typeof x === 'string';
const oneOrList = (test: (x: unknown) => boolean) => (v: unknown) => test(v) || (Array.isArray(v) && v.every(test));

/** Autobahn's `PublishOptions` assertions, per option the bridge passes. */
const PUBLISH_OPTIONS: Readonly<Record<string, (v: unknown) => boolean>> = {
  forward_for: (v) => Array.isArray(v) && v.every((f) => isDict(f) && isInt(f.session) && isStr(f.authid) && isStr(f.authrole)),
  retain: (v) => typeof v === 'boolean',
  exclude_me: (v) => typeof v === 'boolean',
  exclude_authid: oneOrList(isStr),
  exclude_authrole: oneOrList(isStr),
  exclude: oneOrList(isInt),
  eligible_authid: oneOrList(isStr),
  eligible_authrole: oneOrList(isStr),
  eligible: oneOrList(isInt),
};
const LISTS = new Set(['exclude_authid', 'exclude_authrole', 'exclude', 'eligible_authid', 'eligible_authrole', 'eligible']);

/** The PUBLISH options Autobahn sends for the request's `options` (acknowledged, as the bridge asks). */
export function publishOptions(v: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { acknowledge: true };
  if (!truthy(v)) return out;
  if (!isDict(v)) throw new PythonTypeError("'options' has no attribute 'get'");
  for (const [name, valid] of Object.entries(PUBLISH_OPTIONS)) {
    const value = v[name];
    if (value === undefined || value === null) continue;
    if (!valid(value)) throw new PythonTypeError(`PublishOptions: bad ${name}`);
    out[name] = LISTS.has(name) && !Array.isArray(value) ? [value] : value;
  }
  return out;
}
