/**
 * MQTT topics ⇄ WAMP URIs, as Crossbar.io maps them (crossbar/bridge/mqtt/wamp.py): the level
 * separator "/" becomes ".", so `a/b/c` ⇄ `a.b.c`. Topic filters become WAMP subscriptions:
 *
 * | MQTT filter | WAMP subscriptions                        | notes                                    |
 * |-------------|-------------------------------------------|------------------------------------------|
 * | `a/b`       | exact `a.b`                               |                                          |
 * | `a/+/c`     | wildcard `a..c`                           | `+` is one level, as WAMP's empty component |
 * | `a/#`       | prefix `a.` and exact `a`                 | `#` also matches the parent level (MQTT-4.7.1-2); Crossbar.io misses `a` |
 * | `#`         | prefix ``                                 |                                          |
 * | `a/+/#`     | prefix `a.`, then filtered by the gateway | WAMP has no policy for both; Crossbar.io refuses these |
 *
 * A topic the WAMP URI rules cannot express (`a//b`, `/a`, a level with whitespace or "#") is
 * valid MQTT but cannot be routed: a PUBLISH to it is dropped (MQTT 5: PUBACK 0x90), a filter
 * for it is refused in SUBACK. A "." inside an MQTT level is a WAMP separator, as in Crossbar.io.
 */
import { isValidUri, type MatchPolicy, type UriCheck } from '../wamp/uri.js';

/** A WAMP subscription that carries (part of) an MQTT filter. */
export interface WampFilter {
  readonly uri: string;
  readonly match: MatchPolicy;
}

/** What an MQTT topic filter becomes. */
export interface MappedFilter {
  readonly subscriptions: readonly WampFilter[];
  /**
   * Set when the WAMP subscriptions match more than the filter (`+` and `#` together): the
   * gateway checks each event's topic against the MQTT filter itself.
   */
  readonly check?: (wampTopic: string) => boolean;
}

/** A `$share/<group>/<filter>` subscription (MQTT 5 §4.8.2; mosquitto accepts it on 3.1.1 too). */
export interface SharedFilter {
  readonly group: string;
  readonly filter: string;
}

/** Whether an MQTT topic name (PUBLISH, will) is well formed: non-empty, no wildcard, no NUL (MQTT-3.3.2-2, 4.7.3-1). */
export function isValidTopicName(name: string): boolean {
  return name.length > 0 && !/[+#\u0000]/.test(name);
}

/** Whether an MQTT topic filter is well formed (MQTT-4.7.1-1/2/3, 4.7.3-1). */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
    if (level.includes('+') && level !== '+') return false;
  }
  return true;
}

/** `$share/group/filter` → its parts; undefined for an ordinary filter; 'invalid' for a malformed share. */
export function sharedFilter(filter: string): SharedFilter | 'invalid' | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return 'invalid';
  const group = rest.slice(0, slash);
  const inner = rest.slice(slash + 1);
  if (/[+#]/.test(group) || !isValidTopicFilter(inner)) return 'invalid';
  return { group, filter: inner };
}

/** An MQTT topic name as a WAMP URI; undefined when WAMP's URI rules cannot express it. */
export function topicToUri(name: string, check: UriCheck): string | undefined {
  const uri = name.replaceAll('/', '.');
  return isValidUri(uri, check) ? uri : undefined;
}

/** Names longer than this are mapped each time, never remembered (the cache stays small in bytes). */
const REMEMBERED_NAME_LENGTH = 256;

/**
 * A mapping of strings remembered: topic names and URIs repeat, and a Map lookup costs less than
 * the mapping. Bounded: at most `max` keys of at most 256 characters, all forgotten at once when full.
 */
class Remembered<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly compute: (key: string) => V, private readonly max: number) {}

  protected get(key: string): V {
    let v = this.values.get(key);
    if (v === undefined) {
      v = this.compute(key);
      if (key.length <= REMEMBERED_NAME_LENGTH) {
        if (this.values.size >= this.max) this.values.clear();
        this.values.set(key, v);
      }
    }
    return v;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.values.size;
  }
}

/** `topicToUri` for the names a transport's clients publish to (it also checks the URI), remembered. */
export class TopicNames extends Remembered<string | null> {
  constructor(check: UriCheck, max = 4096) {
    super((name) => topicToUri(name, check) ?? null, max);
  }

  uri(name: string): string | undefined {
    return this.get(name) ?? undefined;
  }
}

/** A WAMP URI as an MQTT topic name. */
export function uriToTopic(uri: string): string {
  return uri.replaceAll('.', '/');
}

/** `uriToTopic` for the URIs a transport's events go out on, remembered. */
export class TopicNamesOut extends Remembered<string> {
  constructor(max = 4096) {
    super(uriToTopic, max);
  }

  name(uri: string): string {
    return this.get(uri);
  }
}

/** A well-formed MQTT topic filter as WAMP subscriptions; undefined when WAMP's URI rules cannot express it. */
export function filterToWamp(filter: string, check: UriCheck): MappedFilter | undefined {
  const levels = filter.split('/');
  const multi = levels[levels.length - 1] === '#';
  const single = levels.includes('+');
  if (multi && single) {
    // Everything under the literal levels before the first "+", filtered here.
    const literal = levels.slice(0, levels.indexOf('+'));
    const prefix = literal.length === 0 ? '' : `${literal.join('.')}.`;
    if (!isValidUri(prefix, check, 'prefix')) return undefined;
    const pattern = levels.slice(0, -1);
    return {
      subscriptions: [{ uri: prefix, match: 'prefix' }],
      check: (topic) => {
        const t = topic.split('.');
        // "#" matches the parent level too: a/+/# matches a/x.
        return t.length >= pattern.length && pattern.every((p, i) => p === '+' || p === t[i]);
      },
    };
  }
  if (multi) {
    if (levels.length === 1) return { subscriptions: [{ uri: '', match: 'prefix' }] };
    const parent = levels.slice(0, -1).join('.');
    if (!isValidUri(parent, check)) return undefined;
    return { subscriptions: [{ uri: `${parent}.`, match: 'prefix' }, { uri: parent, match: 'exact' }] };
  }
  if (single) {
    const uri = levels.map((l) => (l === '+' ? '' : l)).join('.');
    // Every level a wildcard ("+", "+/+"): WAMP's pattern of empty components, e.g. "." for two levels.
    if (!isValidUri(uri, check, 'wildcard') || levels.some((l) => l === '')) return undefined;
    return { subscriptions: [{ uri, match: 'wildcard' }] };
  }
  const uri = topicToUri(filter, check);
  return uri === undefined ? undefined : { subscriptions: [{ uri, match: 'exact' }] };
}
