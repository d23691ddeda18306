/**
 * A client in a worker thread (not a test file itself): a burst publisher (a raw WebSocket client
 * that writes its PUBLISHes as fast as the socket takes them), or an Autobahn|JS subscriber that
 * reads on its own core. In the router's
 * thread the clients would take turns with the router, which could then never outrun them.
 */
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { connectAutobahn, type SerializerName } from '../../helpers/clients.js';
import { RawWsClient } from '../../helpers/raw-wamp.js';

interface Job {
  readonly role: 'publish' | 'subscribe';
  readonly url: string;
  readonly serializer: SerializerName;
  readonly topic: string;
  /** Events to publish, and the payload size of each (a subscriber counts events of this size). */
  readonly count: number;
  readonly size: number;
}

type FromPeer = { ready: true } | { seq: number } | { published: number };

export class BurstPeer {
  /** Sequence numbers received, in order of arrival (subscriber). */
  readonly received: number[] = [];
  published = 0;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromPeer) => {
      if ('seq' in m) this.received.push(m.seq);
      else if ('published' in m) this.published = m.published;
    });
  }

  static async start(job: Job): Promise<BurstPeer> {
    const self = new URL(import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(self)}).then((m) => m.burstPeerMain()).catch((e) => { console.error(e); process.exit(1); });`,
      { eval: true, workerData: job },
    );
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromPeer) => {
        if (!('ready' in m)) return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`burst peer exited with ${code}`)));
    });
    return new BurstPeer(worker);
  }

  /** The publisher: starts the burst. */
  go(): void {
    this.worker.postMessage('go');
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The worker side. */
export async function burstPeerMain(): Promise<void> {
  const port = parentPort!;
  const job = workerData as Job;
  if (job.role === 'subscribe') {
    const c = await connectAutobahn(job.url, { serializer: job.serializer });
    await c.session.subscribe(job.topic, (args: unknown[] | undefined) => {
      const [seq, payload] = args as [number, string];
      if (payload.length === job.size) port.postMessage({ seq });
    });
    port.postMessage({ ready: true });
    return;
  }
  const publisher = await RawWsClient.open(job.url, { serializer: job.serializer });
  await publisher.hello();
  const payload = 'b'.repeat(job.size);
  port.on('message', (m) => {
    if (m !== 'go') return;
    for (let seq = 1; seq <= job.count; seq++) publisher.publish(job.topic, [seq, payload]);
    port.postMessage({ published: job.count });
  });
  port.postMessage({ ready: true });
}
