/** Seeded randomness for the matching tests: the same seed gives the same patterns. */
import type { MatchPolicy } from '../../../src/match/match-index.js';
import { prng } from '../../helpers/prng.js';

export { prng as mulberry32 };

/** A small alphabet so that random patterns and topics collide often. */
export const COMPONENTS = ['a', 'b', 'ab', 'ba', 'c'] as const;
export const POLICIES: readonly MatchPolicy[] = ['exact', 'prefix', 'wildcard'];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** 1–4 components from the alphabet. */
export function randomTopic(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(pick(rand, COMPONENTS));
  return parts.join('.');
}

/**
 * A pattern for `policy` (random if not given): wildcard patterns leave each component empty with
 * probability 0.4; prefix patterns are cut at a random character (possibly mid-component,
 * possibly empty), since WAMP prefixes are plain strings.
 */
export function randomPattern(rand: () => number, policy = pick(rand, POLICIES)): [string, MatchPolicy] {
  const topic = randomTopic(rand);
  if (policy === 'wildcard') {
    return [topic.split('.').map((c) => (rand() < 0.4 ? '' : c)).join('.'), policy];
  }
  if (policy === 'prefix') return [topic.slice(0, Math.floor(rand() * (topic.length + 1))), policy];
  return [topic, policy];
}
