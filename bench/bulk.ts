/**
 * bulk: 1 MiB binary payloads, 1 publisher → 1 subscriber and → FANOUT subscribers, in each of
 * WAMP's serializations: MessagePack (bin), CBOR (byte string), JSON ("\0" + base64, WAMP's binary
 * rule). The figure is the server's CPU per published message, against a bare `ws` server relaying
 * EVENT-shaped frames of the same serialization (the same bytes on the wire), in the same run.
 *
 * The publisher keeps at most WINDOW messages in flight (not yet received by every subscriber);
 * every subscriber must receive every message (0 lost), the end of each frame is compared with the
 * payload's encoding and every CHECK_EVERY-th message is decoded whole and its bytes compared.
 * Clients encode with msgpackr, cbor-x and JSON themselves (not xbar's serializers).
 */
import { randomBytes } from 'node:crypto';
import { encode as cborEncode, decode as cborDecode } from 'cbor-x';
import { pack, unpack } from 'msgpackr';
import {
  debug, Meter, medians, pairedRatio, rounds, type ScenarioResult, ServerChild, until,
} from './harness.js';
import { M } from './wamp-peer.js';
import { BenchSocket, OP_BINARY, OP_TEXT } from './ws-client.js';

const PAYLOAD_BYTES = 1024 * 1024;
export const FANOUT = 8;
const WINDOW = 4;
/** Published messages per run, by subscriber count: about 100–200 MiB delivered per run. */
const MESSAGES: Record<number, number> = { 1: 96, [FANOUT]: 24 };
const CHECK_EVERY = 16;
const MIN_ROUNDS = 3;
const MAX_ROUNDS = 4;
const TOPIC = 'bench.bulk';
const BARE_SUBSCRIPTION = 7036874417766401;
const BARE_PUBLICATION = 5629499534213121;

type SerializerName = 'msgpack' | 'cbor' | 'json';
/** BENCH_BULK=json,cbor runs only those (e.g. to profile one). */
export const SERIALIZERS: readonly SerializerName[] = (['msgpack', 'cbor', 'json'] as const)
  .filter((s) => !process.env.BENCH_BULK || process.env.BENCH_BULK.split(',').includes(s));

/** A client-side WAMP codec: not xbar's, so the bench does not check xbar against itself. */
interface Codec {
  readonly name: SerializerName;
  readonly opcode: number;
  encode(m: unknown[]): Buffer;
  decode(b: Buffer): unknown[];
  /** The payload as this serialization carries a binary value. */
  binary(bytes: Buffer): unknown;
  /** Bytes back from a decoded binary value. */
  bytesOf(v: unknown): Buffer;
}

const CODECS: Record<SerializerName, Codec> = {
  msgpack: {
    name: 'msgpack', opcode: OP_BINARY,
    encode: (m) => pack(m), decode: (b) => unpack(b) as unknown[],
    binary: (b) => b, bytesOf: (v) => Buffer.from(v as Uint8Array),
  },
  cbor: {
    name: 'cbor', opcode: OP_BINARY,
    encode: (m) => cborEncode(m), decode: (b) => cborDecode(b) as unknown[],
    binary: (b) => b, bytesOf: (v) => Buffer.from(v as Uint8Array),
  },
  json: {
    name: 'json', opcode: OP_TEXT,
    encode: (m) => Buffer.from(JSON.stringify(m)), decode: (b) => JSON.parse(b.toString()) as unknown[],
    binary: (b) => `\0${b.toString('base64')}`,
    bytesOf: (v) => Buffer.from((v as string).slice(1), 'base64'),
  },
};

/** A session that joined realm1 speaking `codec` (HELLO → WELCOME), with a way to await replies. */
class BulkPeer {
  private waiting: ((m: unknown[]) => void) | undefined;
  onEvent: (frame: Buffer) => void = () => {};

  private constructor(readonly ws: BenchSocket, readonly codec: Codec) {
    ws.onFrame = (payload) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(codec.decode(payload));
      } else {
        this.onEvent(payload);
      }
    };
  }

  static async connect(url: string, codec: Codec, join: boolean): Promise<BulkPeer> {
    const peer = new BulkPeer(await BenchSocket.connect(url, `wamp.2.${codec.name}`), codec);
    if (join) {
      const welcome = await peer.request([M.HELLO, 'realm1', { roles: { publisher: {}, subscriber: {} } }]);
      if (welcome[0] !== M.WELCOME) throw new Error(`${codec.name}: no WELCOME: ${JSON.stringify(welcome).slice(0, 200)}`);
    }
    return peer;
  }

  request(m: unknown[]): Promise<unknown[]> {
    const reply = new Promise<unknown[]>((resolve) => (this.waiting = resolve));
    this.ws.send(this.codec.encode(m), this.codec.opcode);
    return reply;
  }

  async subscribe(topic: string): Promise<number> {
    const m = await this.request([M.SUBSCRIBE, 1, {}, topic]);
    if (m[0] !== M.SUBSCRIBED) throw new Error(`${this.codec.name}: SUBSCRIBE refused: ${JSON.stringify(m).slice(0, 200)}`);
    return m[2] as number;
  }
}

interface Rig {
  readonly label: string;
  readonly server: ServerChild;
  readonly counts: Int32Array;
  complete: number;
  bad: number;
  onComplete: () => void;
  publish(): void;
  close(): void;
}

/** The subscriber's check of one EVENT frame (`i`: its index): the tail always, the whole every CHECK_EVERY-th. */
function receiver(rig: Rig, i: number, codec: Codec, payload: Buffer, tail: Buffer): (frame: Buffer) => void {
  return (frame) => {
    const n = ++rig.counts[i]!;
    if (frame.length < tail.length || !frame.subarray(frame.length - tail.length).equals(tail)) rig.bad++;
    else if (n % CHECK_EVERY === 1) {
      const m = codec.decode(frame);
      const args = m[4] as unknown[] | undefined;
      if (m[0] !== M.EVENT || m.length !== 5 || !args || args.length !== 1 || !codec.bytesOf(args[0]).equals(payload)) rig.bad++;
    }
    let min = n;
    for (let k = 0; k < rig.counts.length; k++) if (rig.counts[k]! < min) min = rig.counts[k]!;
    if (min > rig.complete) {
      rig.complete = min;
      rig.onComplete();
    }
  };
}

/** The last bytes every frame of an EVENT carrying `payload` ends with (the payload's own encoding). */
function tailOf(codec: Codec, payload: Buffer): Buffer {
  const whole = codec.encode([M.EVENT, 1, 1, {}, [codec.binary(payload)]]);
  return Buffer.from(whole.subarray(whole.length - 256));
}

function newRig(label: string, server: ServerChild, subscribers: number): Rig {
  return { label, server, counts: new Int32Array(subscribers), complete: 0, bad: 0, onComplete: () => {}, publish: () => {}, close: () => {} };
}

async function xbarRig(server: ServerChild, codec: Codec, subscribers: number, payload: Buffer): Promise<Rig> {
  const rig = newRig('xbar', server, subscribers);
  const tail = tailOf(codec, payload);
  const subs: BulkPeer[] = [];
  for (let i = 0; i < subscribers; i++) {
    const p = await BulkPeer.connect(server.url, codec, true);
    await p.subscribe(TOPIC);
    p.onEvent = receiver(rig, i, codec, payload, tail);
    subs.push(p);
  }
  const pub = await BulkPeer.connect(server.url, codec, true);
  const frame = BenchSocket.frame(codec.encode([M.PUBLISH, 1, {}, TOPIC, [codec.binary(payload)]]), codec.opcode);
  rig.publish = () => pub.ws.sendFrame(frame);
  rig.close = () => [...subs, pub].forEach((p) => p.ws.destroy());
  return rig;
}

async function bareRig(server: ServerChild, codec: Codec, subscribers: number, payload: Buffer): Promise<Rig> {
  const rig = newRig('baseline', server, subscribers);
  const tail = tailOf(codec, payload);
  const channel = `bulk${Math.random().toString(36).slice(2)}`;
  const subs: BulkPeer[] = [];
  for (let i = 0; i < subscribers; i++) {
    const p = await BulkPeer.connect(`${server.url}?sub=${channel}`, codec, false);
    p.onEvent = receiver(rig, i, codec, payload, tail);
    subs.push(p);
  }
  const pub = await BulkPeer.connect(`${server.url}?pub=${channel}`, codec, false);
  const event = codec.encode([M.EVENT, BARE_SUBSCRIPTION, BARE_PUBLICATION, {}, [codec.binary(payload)]]);
  const frame = BenchSocket.frame(event, codec.opcode);
  rig.publish = () => pub.ws.sendFrame(frame);
  rig.close = () => [...subs, pub].forEach((p) => p.ws.destroy());
  // The relay forwards once every subscriber's upgrade has been handled: a round trip proves it.
  await new Promise((r) => setTimeout(r, 100));
  return rig;
}

type BulkRun = {
  server_cpu_us_per_message: number; server_cpu_us_per_delivery: number; mbit_per_s_delivered: number;
  server_cpu_util: number; client_cpu_util: number; other_load: number; lost: number;
};

async function run(rig: Rig, messages: number, payloadBytes: number): Promise<BulkRun> {
  let published = rig.complete;
  const target = rig.complete + messages;
  const start = rig.complete;
  let lastAt = 0;
  const pump = (): void => {
    if (rig.complete === target) lastAt = performance.now();
    while (published < target && published - rig.complete < WINDOW) {
      rig.publish();
      published++;
    }
  };
  rig.onComplete = pump;
  const meter = new Meter(rig.server);
  await meter.start();
  pump();
  await until(() => rig.complete === target, `${rig.label}: every subscriber to receive all ${messages} messages`, 60_000, 5)
    .catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; received ${[...rig.counts].map((c) => c - start).join(', ')} (lost)`);
    });
  const m = await meter.stop(lastAt);
  if (rig.bad > 0) throw new Error(`${rig.label}: ${rig.bad} frames were not the EVENT with the payload`);
  const deliveries = messages * rig.counts.length;
  return {
    server_cpu_us_per_message: m.serverCpuMicros / messages,
    server_cpu_us_per_delivery: m.serverCpuMicros / deliveries,
    mbit_per_s_delivered: (deliveries * payloadBytes * 8) / m.seconds / 1e6,
    server_cpu_util: m.serverUtil, client_cpu_util: m.clientUtil, other_load: m.otherLoad,
    lost: [...rig.counts].reduce((a, c) => a + (target - c), 0),
  };
}

export async function bulk(): Promise<ScenarioResult> {
  const xs = await ServerChild.start('xbar', 'bulk-xbar');
  const bs = await ServerChild.start('bare', 'bulk-bare');
  const payload = randomBytes(PAYLOAD_BYTES);
  const rows: Record<string, Record<string, unknown>> = {};
  const ratio: Record<string, number> = {};
  const target: Record<string, string> = {};
  const quality: Record<string, unknown> = {};
  const xbarOut: Record<string, unknown> = {};
  const bareOut: Record<string, unknown> = {};
  try {
    for (const name of SERIALIZERS) {
      const codec = CODECS[name];
      for (const subscribers of [1, FANOUT]) {
        const key = `${name}_1to${subscribers}`;
        const x = await xbarRig(xs, codec, subscribers, payload);
        const b = await bareRig(bs, codec, subscribers, payload);
        try {
          const messages = MESSAGES[subscribers]!;
          await run(x, WINDOW * 2, PAYLOAD_BYTES); // warm-up
          await run(b, WINDOW * 2, PAYLOAD_BYTES);
          const { series: [xr, br], quality: q } = await rounds(
            [() => run(x, messages, PAYLOAD_BYTES), () => run(b, messages, PAYLOAD_BYTES)], MIN_ROUNDS, MAX_ROUNDS);
          if (!xr || !br) throw new Error('no runs');
          const label = `${name} 1 → ${subscribers}`;
          rows[`${label}: xbar`] = medians(xr);
          rows[`${label}: baseline`] = medians(br);
          const r = pairedRatio(xr, br, 'server_cpu_us_per_message');
          rows[`${label}: ratio`] = { server_cpu_us_per_message: r, mbit_per_s_delivered: pairedRatio(xr, br, 'mbit_per_s_delivered') };
          ratio[`${key}_cpu_per_message`] = r;
          target[`${key}_cpu_per_message`] = '<= 1.2';
          xbarOut[key] = medians(xr);
          bareOut[key] = medians(br);
          quality[key] = q;
          debug(`bulk ${label}: ratio ${r.toFixed(3)}`);
        } finally {
          x.close();
          b.close();
        }
      }
    }
    return {
      scenario: 'bulk',
      xbar: xbarOut,
      baseline: bareOut,
      ratio,
      target,
      pass: Object.values(ratio).every((r) => r <= 1.2),
      info: { payload_bytes: PAYLOAD_BYTES, window_messages: WINDOW, messages_per_run: MESSAGES, check_every: CHECK_EVERY, rounds: quality },
      rows,
    };
  } finally {
    await Promise.all([xs.stop(), bs.stop()]);
  }
}
