/**
 * Micro benchmark: URI matching with MatchIndex against a naive linear scan over the same
 * 100,000 patterns (80k exact, 10k prefix, 10k wildcard), in the same run.
 *
 * Rates are publish lookups per second (one forEachMatch over one topic, however many
 * subscriptions it matches); `index_best_per_s` is the RPC lookup (best()).
 * Run directly: `node dist/bench/match.js` prints one JSON line and a small table.
 */
import { pathToFileURL } from 'node:url';
import { MatchIndex, type MatchPolicy } from '../src/match/match-index.js';

const EXACT = 80_000;
const PREFIX = 10_000;
const WILDCARD = 10_000;
const DEVICES = 100_000;
const METRICS = ['temperature', 'humidity', 'pressure', 'battery'] as const;

interface Pattern {
  readonly uri: string;
  readonly policy: MatchPolicy;
  readonly parts: readonly string[];
}

/** Deterministic PRNG so every run publishes the same topics. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * exact:    com.example.device.<n>.<metric>        one device's reading
 * prefix:   com.example.device.<n>.                everything one device publishes
 * wildcard: com.example.device..sensor<j>          sensor j on any device
 */
function buildPatterns(): Pattern[] {
  const out: Pattern[] = [];
  const add = (uri: string, policy: MatchPolicy): void => {
    out.push({ uri, policy, parts: uri.split('.') });
  };
  for (let n = 0; n < EXACT; n++) add(`com.example.device.${n}.${METRICS[n % METRICS.length]}`, 'exact');
  for (let n = 0; n < PREFIX; n++) add(`com.example.device.${n * 7}.`, 'prefix');
  for (let j = 0; j < WILDCARD; j++) add(`com.example.device..sensor${j}`, 'wildcard');
  return out;
}

/** Half the topics are metric readings, half sensor readings (half of whose sensors exist). */
function buildTopics(count: number, rand: () => number): string[] {
  const topics: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(rand() * DEVICES);
    const leaf =
      rand() < 0.5
        ? METRICS[Math.floor(rand() * METRICS.length)]!
        : `sensor${Math.floor(rand() * WILDCARD * 2)}`;
    topics.push(`com.example.device.${n}.${leaf}`);
  }
  return topics;
}

/** The baseline: test every pattern against the topic (what STYLE.md's nexus example does). */
function linearCount(patterns: readonly Pattern[], topic: string): number {
  let found = 0;
  const parts = topic.split('.');
  for (const p of patterns) {
    if (p.policy === 'exact') {
      if (p.uri === topic) found++;
    } else if (p.policy === 'prefix') {
      if (topic.startsWith(p.uri)) found++;
    } else if (p.parts.length === parts.length) {
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) ok = p.parts[i] === '' || p.parts[i] === parts[i];
      if (ok) found++;
    }
  }
  return found;
}

function indexCount(index: MatchIndex<number>, topic: string): number {
  let found = 0;
  index.forEachMatch(topic, () => {
    found++;
  });
  return found;
}

/** Runs `fn` over `topics` until at least `minMs` has passed; returns lookups per second. */
function rate(topics: readonly string[], minMs: number, fn: (topic: string) => number): { perSec: number; matches: number } {
  let done = 0;
  let matches = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < minMs) {
    for (const topic of topics) matches += fn(topic);
    done += topics.length;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { perSec: (done * 1000) / elapsedMs, matches: matches / done };
}

export async function runMatchBench(): Promise<Record<string, number>> {
  const patterns = buildPatterns();
  const rand = mulberry32(42);

  const buildStart = process.hrtime.bigint();
  const index = new MatchIndex<number>();
  patterns.forEach((p, i) => index.set(p.uri, p.policy, i));
  const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;

  const topics = buildTopics(10_000, rand);
  // Both implementations must agree before their speeds mean anything.
  for (const topic of topics.slice(0, 200)) {
    const a = indexCount(index, topic);
    const b = linearCount(patterns, topic);
    if (a !== b) throw new Error(`match count differs for ${topic}: index ${a}, linear ${b}`);
  }

  rate(topics, 200, (t) => indexCount(index, t)); // warm-up
  const idx = rate(topics, 1000, (t) => indexCount(index, t));
  const best = rate(topics, 1000, (t) => (index.best(t) === undefined ? 0 : 1));
  const lin = rate(topics.slice(0, 200), 1000, (t) => linearCount(patterns, t));

  return {
    patterns: index.size,
    build_ms: Math.round(buildMs),
    avg_matches_per_topic: Number(idx.matches.toFixed(3)),
    index_matches_per_s: Math.round(idx.perSec),
    index_best_per_s: Math.round(best.perSec),
    linear_matches_per_s: Math.round(lin.perSec),
    speedup: Math.round(idx.perSec / lin.perSec),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runMatchBench();
  console.log(JSON.stringify({ bench: 'match', ...result }));
  console.table({
    'MatchIndex.forEachMatch': { 'lookups/s': result['index_matches_per_s'] },
    'MatchIndex.best': { 'lookups/s': result['index_best_per_s'] },
    'linear scan (baseline)': { 'lookups/s': result['linear_matches_per_s'] },
  });
}
