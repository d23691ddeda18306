/**
 * `topic_names: false` on a stats or metrics service: the snapshot it serves has empty
 * busiest-topics lists, so neither the JSON, the page nor Prometheus shows a topic name.
 */
import type { NodeSnapshot } from '../stats/snapshot.js';

export interface SnapshotSource {
  snapshot(): NodeSnapshot;
}

export function withoutTopicNames(source: SnapshotSource): SnapshotSource {
  return { snapshot: () => withoutTopics(source.snapshot()) };
}

export function withoutTopics(s: NodeSnapshot): NodeSnapshot {
  return { ...s, realms: s.realms.map((r) => ({ ...r, top_topics: [] })) };
}
