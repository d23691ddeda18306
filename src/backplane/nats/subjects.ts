/**
 * NATS subjects of a cluster (design/cluster.md §2). Every WAMP URI component becomes one NATS
 * token: [A-Za-z0-9_-] stay, every other UTF-8 byte (".", "*", ">", "$", "~", non-ASCII) becomes
 * "~HH". The encoding is reversible and a token is never a NATS wildcard. An empty component
 * (legal only in wildcard patterns) becomes "~" so subjects never have empty tokens.
 */
import type { MatchPolicy } from '../../wamp/uri.js';

const SAFE = /^[A-Za-z0-9_-]+$/;

export function encodeToken(s: string): string {
  if (s === '') return '~';
  if (SAFE.test(s)) return s;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && /[A-Za-z0-9_-]/.test(c) ? c : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeToken(t: string): string {
  if (t === '~') return '';
  if (!t.includes('~')) return t;
  const bytes: number[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '~') {
      bytes.push(parseInt(t.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(t.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export class Subjects {
  readonly prefix: string;
  constructor(cluster: string) {
    this.prefix = `xbar.${encodeToken(cluster)}`;
  }

  /** Where events for `topic` in `realm` are published. */
  event(realm: string, topic: string): string {
    return `${this.prefix}.ev.${encodeToken(realm)}.${topic.split('.').map(encodeToken).join('.')}`;
  }

  /**
   * The NATS subscription that carries every event a WAMP subscription can match. Prefix: WAMP
   * compares strings (`com.foo` matches `com.foobar`), so the last, possibly partial, component
   * is dropped and `>` covers the rest; the local match index filters the over-delivery.
   */
  interest(realm: string, uri: string, match: MatchPolicy): string {
    const base = `${this.prefix}.ev.${encodeToken(realm)}`;
    const parts = uri.split('.');
    switch (match) {
      case 'exact':
        return `${base}.${parts.map(encodeToken).join('.')}`;
      case 'wildcard':
        return `${base}.${parts.map((p) => (p === '' ? '*' : encodeToken(p))).join('.')}`;
      case 'prefix': {
        const complete = parts.slice(0, -1);
        return complete.length === 0 ? `${base}.>` : `${base}.${complete.map(encodeToken).join('.')}.>`;
      }
    }
  }

  /** Subject token → WAMP topic (inverse of `event`'s topic part). */
  topicOf(subject: string, realm: string): string {
    const base = `${this.prefix}.ev.${encodeToken(realm)}.`;
    return subject.slice(base.length).split('.').map(decodeToken).join('.');
  }

  nodeInbox(node: string): string {
    return `${this.prefix}.nd.${encodeToken(node)}.inv`;
  }

  nodeReplies(node: string): string {
    return `${this.prefix}.nd.${encodeToken(node)}.rep`;
  }

  /** Answered by the live node of that name (node-name.ts: one live node per name). */
  nodeName(node: string): string {
    return `${this.prefix}.nd.${encodeToken(node)}.name`;
  }

  get heartbeat(): string {
    return `${this.prefix}.hb`;
  }

  meta(realm: string): string {
    return `${this.prefix}.meta.${encodeToken(realm)}`;
  }
}
