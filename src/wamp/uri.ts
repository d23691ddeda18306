/**
 * URI rules (basic/building_blocks.md, URIs): loose components contain no whitespace, "." or "#";
 * strict components are [0-9a-z_]. Empty components are allowed only in wildcard patterns, and an
 * empty last component only in prefix patterns.
 */
/** How a subscription or registration matches URIs (basic/pubsub.md, advanced/pattern_based_*). */
export type MatchPolicy = 'exact' | 'prefix' | 'wildcard';
/** Which URI components a realm accepts (basic/building_blocks.md, URIs). */
export type UriCheck = 'loose' | 'strict';

const LOOSE = /^([^\s.#]+\.)*([^\s.#]+)$/;
const LOOSE_PREFIX = /^([^\s.#]+\.)*([^\s.#]*)$/;
const LOOSE_WILDCARD = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/;
const STRICT = /^([0-9a-z_]+\.)*([0-9a-z_]+)$/;
const STRICT_PREFIX = /^([0-9a-z_]+\.)*([0-9a-z_]*)$/;
const STRICT_WILDCARD = /^(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?$/;

/** URIs are capped at 1,024 UTF-8 bytes in every mode (design/cluster.md §2). */
export const MAX_URI_BYTES = 1024;

export function isValidUri(uri: string, check: UriCheck, match: MatchPolicy = 'exact'): boolean {
  if (uri.length > MAX_URI_BYTES / 3 && utf8Length(uri) > MAX_URI_BYTES) return false;
  const strict = check === 'strict';
  switch (match) {
    case 'exact':
      return (strict ? STRICT : LOOSE).test(uri);
    case 'prefix':
      return (strict ? STRICT_PREFIX : LOOSE_PREFIX).test(uri);
    case 'wildcard':
      return (strict ? STRICT_WILDCARD : LOOSE_WILDCARD).test(uri);
  }
}

/** URIs under `wamp.` are the router's own (meta API, errors); clients may not publish or register there. */
export function isReservedUri(uri: string): boolean {
  return uri.startsWith('wamp.');
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
