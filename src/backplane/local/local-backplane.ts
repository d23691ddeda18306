/**
 * The embedded single-node backplane: no other node exists, so interest is always satisfied and
 * nothing leaves the process. Limit: one node only; it cannot form a cluster.
 */
import { randomBytes } from 'node:crypto';
import type { Backplane, BackplaneHealth } from '../backplane.js';
import { randomId } from '../../wamp/ids.js';

export class LocalBackplane implements Backplane {
  readonly nodeId = `node-${randomBytes(4).toString('hex')}`;
  private readonly sessionIds = new Set<number>();

  health(): BackplaneHealth {
    return 'standalone';
  }

  newSessionId(): number {
    let id = randomId();
    while (this.sessionIds.has(id)) id = randomId();
    this.sessionIds.add(id);
    return id;
  }

  releaseSessionId(id: number): void {
    this.sessionIds.delete(id);
  }

  async addInterest(): Promise<void> {}

  removeInterest(): void {}

  async stop(): Promise<void> {}
}
