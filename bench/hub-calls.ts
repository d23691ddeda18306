/**
 * `node dist/bench/hub-calls.js`: the in-node backplane's share of a call crossing workers, without
 * routers or clients (bench/README.md, Workers). Prints
 *  - the frame codec in a loop, per call round trip (invoke, then its result; batches of 20 through
 *    a MessageReader): the hub's call frames (call-frames.ts) beside the NATS frames (nats/frame.ts)
 *    they replaced on this wire;
 *  - two HubBackplanes and a hub in this one process, a callee that answers at once, 80 calls in
 *    flight for 3 s: CPU per call of both sides together, calls worker to worker and relayed by the hub.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { BackplaneHandlers, RemoteInvocation } from '../src/backplane/backplane.js';
import { answerMessage, invokeMessage, readInbox, readReply } from '../src/backplane/hub/call-frames.js';
import { BackplaneHub } from '../src/backplane/hub/hub.js';
import { HubBackplane } from '../src/backplane/hub/hub-backplane.js';
import { encodeMessage, MessageReader, Op } from '../src/backplane/hub/wire.js';
import { decodeInbox, decodeReply, encodeInvoke, encodeResult, FrameKind } from '../src/backplane/nats/frame.js';
import type { EncodedPayload } from '../src/wamp/payload.js';

const log = pino({ level: 'silent' });
const call = Buffer.from(`[48,123,{},"bench.workers.echo",["${'x'.repeat(32)}"]]`);
const payload: EncodedPayload = { serializer: 'json', message: call, start: call.indexOf('["'), end: call.length - 1, count: 1 };
const inv: RemoteInvocation = {
  realm: 'realm1', procedure: 'bench.workers.echo', regId: 1234567890123, callee: 4567890123456, details: {}, args: undefined, kwargs: undefined, payload,
};
const answer = { args: undefined, kwargs: undefined, payload };

function codecLoop(name: string, invoke: (n: number) => Buffer, result: (n: number) => Buffer, readI: (b: Buffer) => number, readR: (b: Buffer) => number): void {
  let sink = 0;
  const a = new MessageReader((m) => void (sink += readI(m.body)));
  const b = new MessageReader((m) => void (sink += Number(m.address.slice(m.address.indexOf('\u0000') + 1)) + readR(m.body)));
  const step = (n: number) => {
    const out: Buffer[] = [];
    for (let i = 0; i < 20; i++) out.push(invoke(n + i));
    a.feed(Buffer.concat(out));
    out.length = 0;
    for (let i = 0; i < 20; i++) out.push(result(n + i));
    b.feed(Buffer.concat(out));
  };
  for (let i = 0; i < 10_000; i++) step(i);
  const calls = 100_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < calls / 20; i++) step(i);
  console.log(`${name}: ${(Number(process.hrtime.bigint() - t) / calls / 1000).toFixed(2)} µs per call round trip (${sink > 0 ? 'checked' : '?'})`);
}

function handlers(invocation: BackplaneHandlers['invocation']): BackplaneHandlers {
  return {
    event: () => undefined, metaQuery: () => undefined, orphanedTestaments: () => undefined, registryChanged: () => undefined, memberDown: () => undefined,
    invocation,
  };
}

async function inProcess(direct: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xbar-bench-hub-'));
  const hub = new BackplaneHub(path.join(dir, 'hub.sock'), log);
  await hub.start();
  const callee = new HubBackplane({ path: hub.path, name: 'callee', direct }, log);
  await callee.start(handlers((i, port) => {
    port.result({ args: undefined, kwargs: undefined, payload: i.payload! });
    return { chunk: () => undefined, cancel: () => undefined };
  }));
  const caller = new HubBackplane({ path: hub.path, name: 'caller', direct }, log);
  await caller.start(handlers(() => ({ chunk: () => undefined, cancel: () => undefined })));
  while (!caller.members().has(callee.nodeId)) await new Promise((r) => setTimeout(r, 10));
  let done = 0;
  let running = true;
  const one = (): void => void caller.invoke(callee.nodeId, inv, {
    progress: () => undefined, error: () => undefined, undelivered: () => undefined,
    result: () => {
      done++;
      if (running) one();
    },
  });
  for (let i = 0; i < 80; i++) one();
  await new Promise((r) => setTimeout(r, 1000));
  const cpu0 = process.cpuUsage();
  const done0 = done;
  await new Promise((r) => setTimeout(r, 3000));
  const cpu = process.cpuUsage(cpu0);
  const n = done - done0;
  running = false;
  console.log(`in one process, ${direct ? 'worker to worker' : 'relayed by the hub'}: ${Math.round(n / 3)} calls/s, ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU per call (both sides)`);
  await caller.stop();
  await callee.stop();
  await hub.stop();
  rmSync(dir, { recursive: true, force: true });
}

codecLoop('hub call frames (call-frames.ts)',
  (n) => invokeMessage('w1.1234', 'w0.4321', n, inv), (n) => answerMessage(`w0.4321\u0000${n}`, FrameKind.result, answer),
  (b) => readInbox(b).call, (b) => readReply(b).kind);
codecLoop('NATS frames (nats/frame.ts) on the hub wire',
  (n) => encodeMessage(Op.inbox, 'w1.1234', encodeInvoke('w0.4321', n, inv)), (n) => encodeMessage(Op.reply, `w0.4321\u0000${n}`, encodeResult(answer)),
  (b) => decodeInbox(b).call, (b) => decodeReply(b).kind);
await inProcess(true);
await inProcess(false);
