/**
 * The HTTP bridge's answers, byte for byte as Crossbar.io's `_CommonResource`
 * (`crossbar/bridge/rest/common.py`) writes them:
 *
 * - a refused request: its status and `{"error":"<sentence>","args":[],"kwargs":{}}` (compact
 *   JSON), the sentence from Crossbar.io's log categories (`crossbar/_log_categories.py`, "AR4xx");
 * - a failed publish or call: a WAMP error is status 200 with `{"error": uri, "args": […],
 *   "kwargs": {…}}` in Python's default `json.dumps` spacing; anything else is 500 with
 *   "wamp.error.runtime_error";
 * - every answer has its cross-origin and no-cache headers and `application/json; charset=UTF-8`.
 *
 * Where Crossbar.io formats Python byte strings into a sentence ("b'GET' not allowed") xbar
 * writes the text ("GET not allowed").
 */
import type http from 'node:http';
import { WampError } from '../../../client/local-client.js';
import { ErrorUri } from '../../../wamp/errors.js';

/** Crossbar.io's sentences, by log category. */
export const DENIALS = {
  AR400: () => 'Malformed request to the REST bridge.',
  AR405: (method: string) => `Method not accepted by the REST bridge. (${method} not allowed, only POST, PUT)`,
  AR413: (length: number, accepted: number) => `Request too long. (${length} is longer than accepted ${accepted})`,
  AR450: () => 'Non-accepted request encoding, must be UTF-8.',
  AR451: () => 'Non-decodable request body, was not UTF-8.',
  AR452: (given: string) => `Non-accepted content type. (must be one of 'application/json', not '${given}')`,
  AR453: () => 'Request body was invalid JSON.',
  AR454: () => 'Request body was valid JSON, but not well formed (must be a dict).',
  AR455: (key: string) => `Request body was valid JSON, but not well formed (missing key '${key}').`,
  AR459: () => 'REST bridge signature secret not valid.',
  AR460: () => 'REST bridge signature key not valid.',
  AR461: (reason: string) => `REST bridge signature was invalid (missing mandatory field - ${reason}).`,
  AR462: (reason: string) => `REST bridge signature was invalid (${reason}).`,
  AR463: () => 'Multiple versions of the same header is not allowed.',
  AR464: () => 'Request expired, too old timestamp.',
  AR466: () => 'Request denied based on IP address.',
  CB500: () => 'Unhandled exception in Crossbar.',
} as const;

/** A refusal: status and sentence. */
export class Denial {
  constructor(readonly status: number, readonly sentence: string) {}
}

/** Crossbar.io's `_set_common_headers`. */
export function setCommonHeaders(req: http.IncomingMessage, res: http.ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader('access-control-allow-origin', origin === undefined || origin === 'null' ? '*' : origin);
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader('cache-control', 'no-store,no-cache,must-revalidate,max-age=0');
  res.setHeader('content-type', 'application/json; charset=UTF-8');
  const requested = req.headers['access-control-request-headers'];
  if (requested !== undefined) res.setHeader('access-control-allow-headers', requested);
}

export function send(res: http.ServerResponse, status: number, body: string | Buffer, close = false): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  res.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length);
  // A request whose body was not read (refused from its headers) must not leave the rest on the connection.
  if (close) res.setHeader('connection', 'close');
  // A string body leaves with the head in one write; node:http writes a Buffer body after it (a writev of two).
  if (typeof body === 'string') res.end(body, 'utf8');
  else res.end(body);
}

export function deny(res: http.ServerResponse, d: Denial, close = false): void {
  send(res, d.status, JSON.stringify({ error: d.sentence, args: [], kwargs: {} }), close);
}

/** Python's `json.dumps(value)` with its defaults: ", " and ": " separators, non-ASCII escaped. */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${asciiJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  if (typeof value === 'string') return asciiJson(value);
  return JSON.stringify(value) ?? 'null';
}

function asciiJson(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Crossbar.io's `_fail_request`: a WAMP error is the caller's answer (200), anything else is ours (500). */
export function sendFailure(res: http.ServerResponse, err: unknown): void {
  if (err instanceof WampError) {
    send(res, 200, pythonJson({ error: err.uri, args: err.args?.length ? err.args : [], kwargs: err.kwargs && Object.keys(err.kwargs).length ? err.kwargs : {} }));
  } else {
    send(res, 500, pythonJson({ error: ErrorUri.runtimeError, args: ['Sorry, Crossbar.io has encountered a problem.'], kwargs: {} }));
  }
}
