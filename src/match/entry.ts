/**
 * One stored pattern: the URI as registered (or subscribed) and the caller's value.
 * The tries keep the URI beside the value so a match can report it without rebuilding it
 * from the topic.
 */
export interface MatchEntry<T> {
  readonly uri: string;
  value: T;
}
