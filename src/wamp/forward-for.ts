/**
 * `forward_for`: the hops a publication or call took through router-to-router links (rlinks), as
 * Crossbar.io carries them: PUBLISH/CALL Options.forward_for is a list of {session, authid,
 * authrole}, the first the original publisher/caller. The router discloses that first hop as the
 * publisher/caller and appends the forwarding session to the EVENT/INVOCATION's forward_for.
 */
import type { Dict } from './messages.js';

export interface ForwardHop {
  readonly session: number;
  readonly authid: string;
  readonly authrole: string;
}

/** More hops than any sane link topology makes; a longer list is refused. */
export const MAX_FORWARD_HOPS = 16;

/** The options' forward_for: undefined when absent, a string explaining an ill-formed one. */
export function forwardForOf(options: Dict): readonly ForwardHop[] | undefined | string {
  const raw = options.forward_for;
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_FORWARD_HOPS) {
    return `forward_for must be a list of 1 to ${MAX_FORWARD_HOPS} hops`;
  }
  for (const hop of raw) {
    const h = hop as Partial<Record<keyof ForwardHop, unknown>> | null;
    if (typeof h !== 'object' || h === null || !Number.isSafeInteger(h.session) || typeof h.authid !== 'string' || typeof h.authrole !== 'string') {
      return 'each forward_for hop must be {session: integer, authid: string, authrole: string}';
    }
  }
  return (raw as ForwardHop[]).map((h) => ({ session: h.session, authid: h.authid, authrole: h.authrole }));
}
