/**
 * Debian's Autobahn|Python (/usr/bin/python3, asyncio) as a long-lived subscriber with a chosen
 * serializer: it prints one JSON line per event ({"event": {args, kwargs}}), {"ready": true} once
 * subscribed, and {"left": reason} / {"disconnected": true} if the session ends — which a
 * subscriber whose decoder fails on what the router sent does. Closing its stdin makes it leave.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const DEBIAN_PYTHON = '/usr/bin/python3';

const SUBSCRIBER = String.raw`
import asyncio, json, sys
from autobahn.asyncio.wamp import ApplicationSession, ApplicationRunner
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer
cfg = json.loads(sys.argv[1])

def out(o):
    sys.stdout.write(json.dumps(o) + '\n')
    sys.stdout.flush()

class Subscriber(ApplicationSession):
    async def onJoin(self, details):
        def on_event(*args, **kwargs):
            out({'event': {'args': list(args), 'kwargs': kwargs}})
        await self.subscribe(on_event, cfg['topic'])
        def on_stdin():
            if sys.stdin.readline() == '':
                asyncio.get_event_loop().remove_reader(sys.stdin.fileno())
                self.leave()
        asyncio.get_event_loop().add_reader(sys.stdin.fileno(), on_stdin)
        out({'ready': True})

    def onLeave(self, details):
        out({'left': details.reason})
        self.disconnect()

    def onDisconnect(self):
        out({'disconnected': True})
        asyncio.get_event_loop().stop()

serializer = {'json': JsonSerializer, 'msgpack': MsgPackSerializer, 'cbor': CBORSerializer}[cfg['serializer']]()
ApplicationRunner(cfg['url'], cfg['realm'], serializers=[serializer]).run(Subscriber, log_level='critical')
`;

export interface PythonEvent {
  readonly args: unknown[];
  readonly kwargs: Record<string, unknown>;
}

export class PythonSubscriber {
  readonly events: PythonEvent[] = [];
  /** Set when the session ended: "left: <reason>" or "disconnected". */
  ended: string | undefined;
  private readonly child: ChildProcess;
  private stderr = '';
  private waiters: (() => void)[] = [];

  private constructor(cfg: Record<string, unknown>) {
    this.child = spawn(DEBIAN_PYTHON, ['-c', SUBSCRIBER, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        this.line(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
        buffered = buffered.slice(nl + 1);
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('exit', () => {
      this.ended ??= 'exited';
      this.wake();
    });
  }

  private ready = false;

  private line(m: Record<string, unknown>): void {
    if (m.ready) this.ready = true;
    if (m.event) this.events.push(m.event as PythonEvent);
    if (m.left !== undefined) this.ended ??= `left: ${String(m.left)}`;
    if (m.disconnected) this.ended ??= 'disconnected';
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `pred` holds, rejects after `ms` or when the subscriber ended first. */
  until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`python subscriber: no ${what} within ${ms} ms; ${this.stderr}`)), ms);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          return resolve();
        }
        if (this.ended !== undefined) {
          clearTimeout(timer);
          return reject(new Error(`python subscriber ended (${this.ended}) before ${what}; ${this.stderr}`));
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** Starts a subscriber to `topic` and waits until it is subscribed. */
  static async start(url: string, serializer: 'json' | 'msgpack' | 'cbor', topic: string, realm = 'realm1'): Promise<PythonSubscriber> {
    const s = new PythonSubscriber({ url, serializer, topic, realm });
    await s.until(() => s.ready, 'subscription');
    return s;
  }

  /** Leaves and waits for the process to end. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    await exited;
  }
}
