/**
 * Rules that span several items of a validated document, each reported with the key path of
 * the later item and a pointer to the earlier one. The schema has already checked every item
 * on its own.
 *
 * Roles that no realm defines and permissions listed twice are warnings (warnings.ts), not
 * problems: Crossbar.io runs such a config.
 */
import { formatPath, type KeyPath } from './issues.js';
import type { ValidDocument } from './schema.js';
import { distinctListening, endpoint, transportIds } from './normalize.js';
import type { Endpoint } from './types.js';
import { workerChecks } from './checks-workers.js';

/** Reports the second and later occurrences of each key. */
class Registry {
  private readonly first = new Map<string, KeyPath>();
  constructor(private readonly problems: string[]) {}

  /** `advice`: what to do instead, said after the duplicate. */
  add(key: string, at: KeyPath, what: string, advice?: string): void {
    const earlier = this.first.get(key);
    if (earlier === undefined) this.first.set(key, at);
    else this.problems.push(`${formatPath(at)}: duplicate ${what} (first at ${formatPath(earlier)})${advice === undefined ? '' : `; ${advice}`}`);
  }
}

/** Crossbar.io's examples (rlinks/smp_setup) serve one realm from several router workers. */
const SHARED_REALM_ADVICE = 'one realm served by several router workers (linked by rlinks) is a Crossbar.io feature xbar does not run: ' +
  'define the realm once, in one router worker, and list all its transports there (one xbar node serves a realm on every transport)';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * Two TCP listeners clash on the same port when their interfaces are equal or either is a wildcard
 * (a repeat of a `shared` transport is not a second listener: `distinctListening` leaves it out).
 */
function clash(a: Endpoint, b: Endpoint): boolean {
  if (a.type === 'unix' || b.type === 'unix') return a.type === 'unix' && b.type === 'unix' && a.path === b.path;
  if (a.port !== b.port) return false;
  return a.interface === b.interface || WILDCARDS.has(a.interface) || WILDCARDS.has(b.interface);
}

function describeEndpoint(e: Endpoint): string {
  return e.type === 'unix' ? `unix socket ${JSON.stringify(e.path)}` : `tcp ${e.interface}:${e.port}`;
}

export function crossChecks(doc: ValidDocument): string[] {
  const problems: string[] = [];
  const realmNames = new Registry(problems);
  const transportIdSet = new Registry(problems);
  const listeners: { at: KeyPath; endpoint: Endpoint }[] = [];
  const allRealms = new Set(doc.workers.flatMap((w) => (w.type === 'router' ? w.realms ?? [] : []).map((r) => r.name)));

  doc.workers.forEach((worker, w) => {
    if (worker.type !== 'router') return;
    (worker.realms ?? []).forEach((realm, r) => {
      const realmAt = ['workers', w, 'realms', r];
      realmNames.add(realm.name, [...realmAt, 'name'], `realm name ${JSON.stringify(realm.name)}`, SHARED_REALM_ADVICE);
      const roleNames = new Registry(problems);
      (realm.roles ?? []).forEach((role, o) => {
        const roleAt = [...realmAt, 'roles', o];
        roleNames.add(role.name, [...roleAt, 'name'], `role name ${JSON.stringify(role.name)} in this realm`);
      });
    });
  });

  const listening = distinctListening(doc);
  for (const { t, at } of listening) {
    if (t.id !== undefined) transportIdSet.add(t.id, [...at, 'id'], `transport id ${JSON.stringify(t.id)}`);
    if (t.type === 'rawsocket' && t.serializer !== undefined && t.serializers !== undefined) {
      problems.push(`${formatPath([...at, 'serializer'])}: also "serializers" given; keep "serializers"`);
    }
    if (t.type === 'rawsocket' && t.max_message_size !== undefined && t.options?.max_message_size !== undefined) {
      problems.push(`${formatPath([...at, 'max_message_size'])}: also set in options.max_message_size; set it once`);
    }
    if (t.type === 'web') {
      for (const [key, service] of Object.entries(t.paths)) {
        if (service.type === 'relay' && service.bridge !== undefined && !allRealms.has(service.bridge.realm)) {
          problems.push(
            `${formatPath([...at, 'paths', key, 'bridge', 'realm'])}: no realm ${JSON.stringify(service.bridge.realm)} in this config`,
          );
        }
      }
    }
    const e = endpoint(t.endpoint);
    const earlier = listeners.find((l) => clash(l.endpoint, e));
    if (earlier !== undefined) {
      problems.push(
        `${formatPath([...at, 'endpoint'])}: ${describeEndpoint(e)} clashes with ` +
          `${describeEndpoint(earlier.endpoint)} at ${formatPath(earlier.at)}`,
      );
    }
    listeners.push({ at: [...at, 'endpoint'], endpoint: e });
  }

  if (transportIds(listening.map((x) => x.t)).length === 0) {
    problems.push('workers: no transports configured; xbar would accept no connections');
  }
  problems.push(...workerChecks(doc));
  return problems;
}
