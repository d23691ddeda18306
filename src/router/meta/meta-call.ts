/**
 * What a meta procedure receives and returns, and the errors it raises. A procedure throws
 * `MetaError` for a refusal the caller should see (wamp.error.* with a message in args[0]); the
 * argument readers name the position and what was expected, so bad input gets a clear error.
 */
import type { Args, Dict, Kwargs } from '../../wamp/messages.js';
import { ErrorUri } from '../../wamp/errors.js';
import type { Session } from '../session.js';

export interface MetaCall {
  readonly session: Session;
  readonly procedure: string;
  readonly args: Args;
  readonly kwargs: Kwargs;
}

export interface MetaReply {
  readonly args?: unknown[];
  readonly kwargs?: Dict;
}

export type MetaProcedure = (call: MetaCall) => MetaReply | Promise<MetaReply>;

export class MetaError extends Error {
  constructor(readonly uri: string, message: string, readonly kwargs?: Dict) {
    super(message);
    this.name = 'MetaError';
  }
}

const MAX_ID = 2 ** 53;

function invalid(call: MetaCall, what: string): MetaError {
  return new MetaError(ErrorUri.invalidArgument, `${call.procedure}: ${what}`);
}

/** A WAMP id (integer in [1, 2^53]) at args[i]. */
export function idArg(call: MetaCall, i: number, name: string): number {
  const v = call.args?.[i];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_ID) {
    throw invalid(call, `argument ${i + 1} (${name}) must be an id, an integer from 1 to 2^53, got ${describe(v)}`);
  }
  return v;
}

/** A non-empty string at args[i]. */
export function stringArg(call: MetaCall, i: number, name: string): string {
  const v = call.args?.[i];
  if (typeof v !== 'string' || v === '') throw invalid(call, `argument ${i + 1} (${name}) must be a non-empty string, got ${describe(v)}`);
  return v;
}

/** An optional list of strings at args[i] (null or absent = undefined). */
export function stringListArg(call: MetaCall, i: number, name: string): string[] | undefined {
  const v = call.args?.[i];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw invalid(call, `argument ${i + 1} (${name}) must be a list of strings, got ${describe(v)}`);
  }
  return v as string[];
}

/** An optional dict at args[i] (null or absent = {}). */
export function dictArg(call: MetaCall, i: number, name: string): Dict {
  const v = call.args?.[i];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(call, `argument ${i + 1} (${name}) must be a dict, got ${describe(v)}`);
  return v as Dict;
}

/** The match policy in SUBSCRIBE/REGISTER-like options (default exact). */
export function matchOption(call: MetaCall, options: Dict): 'exact' | 'prefix' | 'wildcard' {
  const m = options.match ?? 'exact';
  if (m !== 'exact' && m !== 'prefix' && m !== 'wildcard') {
    throw invalid(call, `options.match must be "exact", "prefix" or "wildcard", got ${describe(m)}`);
  }
  return m;
}

/** A keyword argument that must be a string when present. */
export function kwString(call: MetaCall, key: string): string | undefined {
  const v = call.kwargs?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(call, `keyword argument "${key}" must be a string, got ${describe(v)}`);
  return v;
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
