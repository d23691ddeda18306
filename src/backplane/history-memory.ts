/**
 * Event history on one node: an append goes straight to the one follower of its rule (the realm's
 * EventStore, which keeps the bounded ring). Nothing is kept here.
 */
import type { HistoryBounds, HistoryLog, StoredEntry } from './backplane.js';

export class MemoryHistoryLog implements HistoryLog {
  private readonly followers = new Map<string, (entry: StoredEntry) => void>();

  async follow(realm: string, id: number, _bounds: HistoryBounds, deliver: (entry: StoredEntry) => void): Promise<void> {
    this.followers.set(logKey(realm, id), deliver);
  }

  append(realm: string, id: number, entry: StoredEntry): undefined {
    this.followers.get(logKey(realm, id))?.(entry);
    return undefined;
  }

  sync(_realm: string, _id: number): undefined {
    return undefined;
  }
}

function logKey(realm: string, id: number): string {
  return `${realm}\u0000${id}`;
}
