/**
 * What a relay path means (practable crossbar's routing, timdrysdale/crossbar `serveWs`):
 *
 *   <topic>       bidirectional N:N: every message goes to every other client of <topic>
 *   in/<topic>    1:N sender: its messages go to every client of out/<topic>
 *   out/<topic>   1:N receiver: what it sends is dropped (and counted) by the relay
 *   stats         the stats page (HTTP GET) and the stats channel (WebSocket)
 *
 * `in/x` and `out/x` share the channel "out/x", as in practable, so several /in senders also
 * hear each other. `bids` and `status` are the access API's (HTTP only); a topic is one or more
 * segments of letters, digits, "_" and "-" (practable's `[\w%-]`, decoded), joined by "/".
 */
import { RelayRefusal } from './errors.js';

export type Route =
  | {
      readonly kind: 'topic';
      /** The path as connected, e.g. "in/demo" (what stats show). */
      readonly path: string;
      /** The channel whose clients exchange messages, e.g. "out/demo". */
      readonly channel: string;
      /** False on out/…: the relay drops what the client sends. */
      readonly writable: boolean;
    }
  | { readonly kind: 'stats' }
  | { readonly kind: 'api'; readonly path: string };

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const MAX_PATH = 256;
export const API_NAMES: ReadonlySet<string> = new Set(['bids', 'status']);

/** The route of `rest` (the path below the relay's mount point, without slashes at either end). */
export function parseRoute(rest: string): Route {
  if (rest === '') throw new RelayRefusal(404, 'no topic: connect to /<topic>, /in/<topic> or /out/<topic>');
  if (rest.length > MAX_PATH) throw new RelayRefusal(414, `topic path longer than ${MAX_PATH} characters`);
  const segments = rest.split('/');
  for (const s of segments) {
    if (!SEGMENT.test(s)) {
      throw new RelayRefusal(400, `invalid topic path "${rest}": segments are letters, digits, "_" or "-", separated by single "/"`);
    }
  }
  const first = segments[0]!;
  if (first === 'stats') {
    if (segments.length === 1) return { kind: 'stats' };
    throw new RelayRefusal(404, '"stats" is reserved for the stats page and channel');
  }
  if (API_NAMES.has(first)) return { kind: 'api', path: rest };
  if (first === 'in' || first === 'out') {
    if (segments.length === 1) throw new RelayRefusal(404, `no topic: connect to /${first}/<topic>`);
    const topic = segments.slice(1).join('/');
    return { kind: 'topic', path: rest, channel: `out/${topic}`, writable: first === 'in' };
  }
  return { kind: 'topic', path: rest, channel: rest, writable: true };
}
