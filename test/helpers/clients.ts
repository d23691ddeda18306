/** Real third-party WAMP clients (Autobahn|JS, wampy) connected to a test node. */
import autobahn from 'autobahn';
import { createRequire } from 'node:module';
import { Wampy } from 'wampy';
import { CborSerializer } from 'wampy/CborSerializer.js';
import { JsonSerializer } from 'wampy/JsonSerializer.js';
import { MsgpackSerializer } from 'wampy/MsgpackSerializer.js';
import WebSocket from 'ws';

// Autobahn|JS warns on the console at every close; keep test output readable.
if (!process.env.XBAR_TEST_VERBOSE) {
  const log = createRequire(import.meta.url)('autobahn/lib/log.js') as { warn: (...args: unknown[]) => void };
  log.warn = () => undefined;
}

export type SerializerName = 'json' | 'msgpack' | 'cbor';
export const SERIALIZERS: readonly SerializerName[] = ['json', 'msgpack', 'cbor'];

export interface AutobahnClient {
  connection: autobahn.Connection;
  session: autobahn.Session;
  /** Details of WELCOME as Autobahn exposes them. */
  details: Record<string, unknown>;
  close(): Promise<void>;
}

export interface AutobahnOptions extends Partial<autobahn.ConnectionOptions> {
  serializer?: SerializerName;
  /** RawSocket over TCP instead of WebSocket (Autobahn|JS speaks JSON only there). */
  rawsocketPort?: number;
}

function autobahnSerializer(name: SerializerName): unknown {
  switch (name) {
    case 'json': return new autobahn.serializer.JSONSerializer();
    case 'msgpack': return new autobahn.serializer.MsgpackSerializer();
    case 'cbor': return new autobahn.serializer.CBORSerializer();
  }
}

/** Opens an Autobahn|JS session; rejects with the close reason if the router refuses it. */
export function connectAutobahn(url: string, o: AutobahnOptions = {}): Promise<AutobahnClient> {
  const { serializer = 'json', rawsocketPort, ...rest } = o;
  const transport = rawsocketPort !== undefined
    ? { transports: [{ type: 'rawsocket', host: '127.0.0.1', port: rawsocketPort }] }
    : { url, protocols: [`wamp.2.${serializer}`], serializers: [autobahnSerializer(serializer)] };
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({ realm: 'realm1', max_retries: 0, ...transport, ...rest });
    let opened = false;
    let closedResolve: (() => void) | undefined;
    connection.onopen = (session, details) => {
      opened = true;
      resolve({
        connection, session, details,
        close: () => new Promise<void>((r) => {
          if (!connection.isOpen) return r();
          closedResolve = r;
          connection.close();
        }),
      });
    };
    connection.onclose = (reason, details) => {
      if (!opened) reject(Object.assign(new Error(`connection closed: ${reason} ${JSON.stringify(details)}`), { reason, details }));
      closedResolve?.();
      return true; // no retry
    };
    connection.open();
  });
}

export function wampySerializer(name: SerializerName): JsonSerializer | MsgpackSerializer | CborSerializer {
  switch (name) {
    case 'json': return new JsonSerializer();
    case 'msgpack': return new MsgpackSerializer();
    case 'cbor': return new CborSerializer();
  }
}

/** Opens a wampy session. */
export async function connectWampy(url: string, serializer: SerializerName = 'json', realm = 'realm1'): Promise<Wampy> {
  // wampy's own types describe the browser WebSocket; ws is the Node implementation it documents.
  const ws = WebSocket as unknown as NonNullable<ConstructorParameters<typeof Wampy>[1]>['ws'];
  const client = new Wampy(url, { realm, ws, serializer: wampySerializer(serializer), autoReconnect: false });
  await client.connect();
  return client;
}

/** Resolves when `count` values have been pushed, or rejects after `ms`. */
export function collector<T>(count: number, ms = 5000): { push(v: T): void; done: Promise<T[]>; items: T[] } {
  const items: T[] = [];
  let resolve!: (v: T[]) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<T[]>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`timed out with ${items.length} of ${count} items`)), ms);
  if (count === 0) {
    clearTimeout(timer);
    resolve(items);
  }
  return {
    items,
    done,
    push(v: T) {
      items.push(v);
      if (items.length === count) {
        clearTimeout(timer);
        resolve(items);
      }
    },
  };
}
