/**
 * Wildcard-matching store (WAMP `match: "wildcard"`): a trie of URI components.
 *
 * A pattern matches a topic with the same number of dot-separated components when each of its
 * non-empty components equals the topic's component at that position; an empty component
 * matches any component (`com..update` matches `com.x.update`, never `com.x.y.update`).
 *
 * Each level holds named children plus one `any` child for the empty component. A match walks
 * the topic's components, branching into the named child and the `any` child, and accepts
 * entries only at the topic's depth, so its cost grows with the topic's length and the number
 * of patterns that share its components, not with the number of stored patterns.
 *
 * Invariant: every node other than the root holds an entry or has a child; deletion prunes
 * the path back up, so churn leaves no empty nodes behind.
 */
import type { MatchEntry } from './entry.js';

interface WildcardNode<T> {
  /** Children for non-empty pattern components. */
  named: Map<string, WildcardNode<T>> | undefined;
  /** Child for an empty pattern component (matches any topic component). */
  any: WildcardNode<T> | undefined;
  entry: MatchEntry<T> | undefined;
}

function newNode<T>(): WildcardNode<T> {
  return { named: undefined, any: undefined, entry: undefined };
}

function isEmpty<T>(node: WildcardNode<T>): boolean {
  return node.entry === undefined && node.any === undefined && node.named === undefined;
}

export class WildcardTrie<T> {
  private readonly root: WildcardNode<T> = newNode();
  private count = 0;

  /** Number of stored patterns. */
  get size(): number {
    return this.count;
  }

  /** Stores `value` under `pattern`, replacing any value already there. Returns true if the pattern is new. */
  set(pattern: string, value: T): boolean {
    let node = this.root;
    for (const part of pattern.split('.')) {
      if (part === '') {
        node = node.any ??= newNode();
      } else {
        node.named ??= new Map();
        let child = node.named.get(part);
        if (child === undefined) {
          child = newNode();
          node.named.set(part, child);
        }
        node = child;
      }
    }
    if (node.entry !== undefined) {
      node.entry.value = value;
      return false;
    }
    node.entry = { uri: pattern, value };
    this.count++;
    return true;
  }

  /** The value stored under exactly `pattern`. */
  get(pattern: string): T | undefined {
    let node: WildcardNode<T> | undefined = this.root;
    for (const part of pattern.split('.')) {
      node = part === '' ? node.any : node.named?.get(part);
      if (node === undefined) return undefined;
    }
    return node.entry?.value;
  }

  /** Removes `pattern`; returns false if it was not stored. Prunes nodes left empty. */
  delete(pattern: string): boolean {
    const parts = pattern.split('.');
    const path: WildcardNode<T>[] = [this.root];
    let node: WildcardNode<T> | undefined = this.root;
    for (const part of parts) {
      node = part === '' ? node.any : node.named?.get(part);
      if (node === undefined) return false;
      path.push(node);
    }
    if (node.entry === undefined) return false;
    node.entry = undefined;
    this.count--;
    // path[i] is reached from path[i - 1] through parts[i - 1].
    for (let i = parts.length; i > 0 && isEmpty(path[i]!); i--) {
      const parent = path[i - 1]!;
      const part = parts[i - 1]!;
      if (part === '') {
        parent.any = undefined;
      } else if (parent.named !== undefined) {
        parent.named.delete(part);
        if (parent.named.size === 0) parent.named = undefined;
      }
    }
    return true;
  }

  /** Calls `fn` for every stored pattern that matches `topic`. */
  forEachMatch(topic: string, fn: (entry: MatchEntry<T>) => void): void {
    collect(this.root, topic.split('.'), 0, fn);
  }

  /**
   * The matching pattern the spec ranks first: "the registration with the longest portion of
   * URI components matched before each wildcard" (rfc/text/advanced/ap_rpc_pattern_based_registration.md).
   * Comparing those portions in order is the same as finding the first component where two
   * patterns differ (one concrete, one wildcard) and preferring the concrete one. So a
   * depth-first walk that tries the named child before the `any` child meets the best
   * pattern first, and stops there. Two distinct patterns matching one topic always differ in
   * wildcard positions, so the best is unique.
   */
  best(topic: string): MatchEntry<T> | undefined {
    return first(this.root, topic.split('.'), 0);
  }

  /** Every stored entry, in no particular order. */
  *entries(): IterableIterator<MatchEntry<T>> {
    const stack: WildcardNode<T>[] = [this.root];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.entry !== undefined) yield node.entry;
      if (node.any !== undefined) stack.push(node.any);
      if (node.named !== undefined) for (const child of node.named.values()) stack.push(child);
    }
  }

  /** Number of nodes besides the root (diagnostics and leak tests); 0 when empty. */
  nodeCount(): number {
    let n = -1;
    const stack: WildcardNode<T>[] = [this.root];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      n++;
      if (node.any !== undefined) stack.push(node.any);
      if (node.named !== undefined) for (const child of node.named.values()) stack.push(child);
    }
    return n;
  }
}

function collect<T>(
  node: WildcardNode<T>,
  parts: readonly string[],
  depth: number,
  fn: (entry: MatchEntry<T>) => void,
): void {
  if (depth === parts.length) {
    if (node.entry !== undefined) fn(node.entry);
    return;
  }
  const named = node.named?.get(parts[depth]!);
  if (named !== undefined) collect(named, parts, depth + 1, fn);
  if (node.any !== undefined) collect(node.any, parts, depth + 1, fn);
}

/** Depth-first, named child before `any`: the first entry reached is the spec's best. */
function first<T>(node: WildcardNode<T>, parts: readonly string[], depth: number): MatchEntry<T> | undefined {
  if (depth === parts.length) return node.entry;
  const named = node.named?.get(parts[depth]!);
  if (named !== undefined) {
    const found = first(named, parts, depth + 1);
    if (found !== undefined) return found;
  }
  return node.any === undefined ? undefined : first(node.any, parts, depth + 1);
}
