/**
 * A relay client in a worker thread (not a test file itself): a sender that writes its messages
 * as fast as the socket takes them, or a receiver that reads (and hashes) every message on its
 * own core, so the relay in the test's thread can outrun it as it would a remote client.
 */
import { createHash } from 'node:crypto';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

interface Job {
  readonly role: 'send' | 'receive';
  readonly url: string;
  readonly count: number;
  readonly size: number;
}

export class StreamPeer {
  /** Sequence numbers received, in order (receiver). */
  readonly received: number[] = [];

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { seq?: number }) => {
      if (m.seq !== undefined) this.received.push(m.seq);
    });
  }

  static async start(job: Job): Promise<StreamPeer> {
    const self = new URL(import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(self)}).then((m) => m.streamPeerMain()).catch((e) => { console.error(e); process.exit(1); });`,
      { eval: true, workerData: job },
    );
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (!m.ready) return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`stream peer exited with ${code}`)));
    });
    return new StreamPeer(worker);
  }

  go(): void {
    this.worker.postMessage('go');
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export async function streamPeerMain(): Promise<void> {
  const port = parentPort!;
  const job = workerData as Job;
  const ws = new WebSocket(job.url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  if (job.role === 'receive') {
    ws.on('message', (data: Buffer) => {
      createHash('sha256').update(data).digest();
      port.postMessage({ seq: data.readUInt32BE(0) });
    });
  } else {
    port.on('message', (m) => {
      if (m !== 'go') return;
      for (let seq = 1; seq <= job.count; seq++) {
        const b = Buffer.alloc(job.size, seq & 0xff);
        b.writeUInt32BE(seq, 0);
        ws.send(b, { binary: true });
      }
    });
  }
  port.postMessage({ ready: true });
}
