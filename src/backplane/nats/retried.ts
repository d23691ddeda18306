/**
 * Retrying JetStream work through a leader election: after the loss of a NATS server, writes and
 * reads of a bucket whose leader it was fail for seconds (with three servers and one paused,
 * measured up to ~25 s), then succeed.
 */
import { isConflict } from './registry-kv.js';

/** How long a reaper keeps asking JetStream. */
export const REAP_PATIENCE_MS = 30_000;
export const RETRY_MS = 500;

/** `op`, again after failures other than a lost compare-and-set, until `deadline`. */
export async function retried<T>(op: () => Promise<T>, deadline: number, stopping: () => boolean): Promise<T> {
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (isConflict(err) || Date.now() > deadline || stopping()) throw err;
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
