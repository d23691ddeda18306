/**
 * Prefix-matching store (WAMP `match: "prefix"`): a radix trie over UTF-16 code units.
 *
 * WAMP compares prefixes as plain strings, not by URI component: `com.foo` matches `com.foobar`
 * as well as `com.foo.bar`, and the empty prefix matches every topic. Matching walks the topic
 * once from the root and reports the entry of every node it passes, so its cost grows with the
 * topic's length and the number of matches, never with the number of stored prefixes.
 *
 * Invariant: every node other than the root either holds an entry or has at least two children.
 * Deletion restores it (removing or merging nodes), so churn leaves no empty nodes behind.
 */
import type { MatchEntry } from './entry.js';

interface PrefixNode<T> {
  /** Edge label from the parent; '' for the root only. */
  label: string;
  /** Keyed by the first code unit of the child's label. */
  children: Map<number, PrefixNode<T>> | undefined;
  entry: MatchEntry<T> | undefined;
}

function newNode<T>(label: string, entry?: MatchEntry<T>): PrefixNode<T> {
  return { label, children: undefined, entry };
}

export class PrefixTrie<T> {
  private readonly root: PrefixNode<T> = newNode('');
  private count = 0;

  /** Number of stored prefixes. */
  get size(): number {
    return this.count;
  }

  /** Stores `value` under `prefix`, replacing any value already there. Returns true if the prefix is new. */
  set(prefix: string, value: T): boolean {
    let node = this.root;
    let pos = 0;
    while (pos < prefix.length) {
      const code = prefix.charCodeAt(pos);
      const child = node.children?.get(code);
      if (child === undefined) {
        node.children ??= new Map();
        node.children.set(code, newNode(prefix.slice(pos), { uri: prefix, value }));
        this.count++;
        return true;
      }
      const label = child.label;
      const max = Math.min(label.length, prefix.length - pos);
      let common = 1; // the first code unit matched through the map key
      while (common < max && label.charCodeAt(common) === prefix.charCodeAt(pos + common)) common++;
      if (common === label.length) {
        node = child;
        pos += common;
        continue;
      }
      // The new prefix leaves (or ends inside) the child's label: split the edge.
      const middle = newNode<T>(label.slice(0, common));
      child.label = label.slice(common);
      middle.children = new Map([[child.label.charCodeAt(0), child]]);
      node.children!.set(code, middle);
      pos += common;
      if (pos === prefix.length) {
        middle.entry = { uri: prefix, value };
      } else {
        middle.children.set(prefix.charCodeAt(pos), newNode(prefix.slice(pos), { uri: prefix, value }));
      }
      this.count++;
      return true;
    }
    if (node.entry !== undefined) {
      node.entry.value = value;
      return false;
    }
    node.entry = { uri: prefix, value };
    this.count++;
    return true;
  }

  /** The value stored under exactly `prefix`. */
  get(prefix: string): T | undefined {
    return this.find(prefix)?.entry?.value;
  }

  /** Removes `prefix`; returns false if it was not stored. Prunes and re-compresses the path. */
  delete(prefix: string): boolean {
    const parents: PrefixNode<T>[] = [];
    let node = this.root;
    let pos = 0;
    while (pos < prefix.length) {
      const child = node.children?.get(prefix.charCodeAt(pos));
      if (child === undefined || !prefix.startsWith(child.label, pos)) return false;
      parents.push(node);
      node = child;
      pos += child.label.length;
    }
    if (node.entry === undefined) return false;
    node.entry = undefined;
    this.count--;
    if (node === this.root) return true;

    const parent = parents[parents.length - 1]!;
    const size = node.children?.size ?? 0;
    if (size === 0) {
      parent.children!.delete(node.label.charCodeAt(0));
      if (parent.children!.size === 0) parent.children = undefined;
      // The parent may now be a pass-through node with one child: merge it away.
      if (parent !== this.root && parent.entry === undefined) {
        this.mergeIntoOnlyChild(parents[parents.length - 2]!, parent);
      }
    } else if (size === 1) {
      this.mergeIntoOnlyChild(parent, node);
    }
    return true;
  }

  /** Calls `fn` for every stored prefix of `topic`, shortest first. */
  forEachMatch(topic: string, fn: (entry: MatchEntry<T>) => void): void {
    let node = this.root;
    let pos = 0;
    for (;;) {
      if (node.entry !== undefined) fn(node.entry);
      if (pos >= topic.length) return;
      const child = node.children?.get(topic.charCodeAt(pos));
      if (child === undefined || !topic.startsWith(child.label, pos)) return;
      node = child;
      pos += child.label.length;
    }
  }

  /**
   * The longest stored prefix of `topic`. The spec asks for the prefix with the most URI
   * components matched; all matching prefixes of one topic are nested, so the longest string
   * is never behind in components, and it is the one Crossbar.io picks.
   */
  longest(topic: string): MatchEntry<T> | undefined {
    let best: MatchEntry<T> | undefined;
    this.forEachMatch(topic, (entry) => {
      best = entry;
    });
    return best;
  }

  /** Every stored entry, in no particular order. */
  *entries(): IterableIterator<MatchEntry<T>> {
    const stack: PrefixNode<T>[] = [this.root];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.entry !== undefined) yield node.entry;
      if (node.children !== undefined) for (const child of node.children.values()) stack.push(child);
    }
  }

  /** Number of nodes besides the root (diagnostics and leak tests); 0 when empty. */
  nodeCount(): number {
    let n = -1;
    const stack: PrefixNode<T>[] = [this.root];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      n++;
      if (node.children !== undefined) for (const child of node.children.values()) stack.push(child);
    }
    return n;
  }

  private find(prefix: string): PrefixNode<T> | undefined {
    let node = this.root;
    let pos = 0;
    while (pos < prefix.length) {
      const child = node.children?.get(prefix.charCodeAt(pos));
      if (child === undefined || !prefix.startsWith(child.label, pos)) return undefined;
      node = child;
      pos += child.label.length;
    }
    return node;
  }

  /** Replaces entry-less `node` (which has exactly one child) in `parent` by that child. */
  private mergeIntoOnlyChild(parent: PrefixNode<T>, node: PrefixNode<T>): void {
    if (node.children === undefined || node.children.size !== 1) return;
    const [child] = node.children.values();
    child!.label = node.label + child!.label;
    parent.children!.set(node.label.charCodeAt(0), child!);
  }
}
