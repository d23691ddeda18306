import { randomId } from '../wamp/ids.js';

/**
 * The session ids a node has issued and not released: a new id is never one of them (the
 * backplane's contract: unique among live sessions). `draw` makes candidates; on a cluster it
 * puts them in the node's slot, so they are unique across nodes too.
 */
export class SessionIds {
  private readonly live = new Set<number>();

  constructor(private readonly draw: () => number = randomId) {}

  next(): number {
    let id = this.draw();
    while (this.live.has(id)) id = this.draw();
    this.live.add(id);
    return id;
  }

  release(id: number): void {
    this.live.delete(id);
  }
}
