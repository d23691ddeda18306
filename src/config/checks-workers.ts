/**
 * Rules across workers: worker ids unique in the node, component ids unique in their worker, and
 * a router component's realm and role present in the config (Crossbar.io looks the realm up when
 * it starts the component and fails the start; xbar says so at check time).
 */
import { formatPath } from './issues.js';
import type { ValidDocument } from './schema.js';

/** The role Crossbar.io's router sessions use; it exists on every realm. */
const TRUSTED = 'trusted';

export function workerChecks(doc: ValidDocument): string[] {
  const problems: string[] = [];
  const workerIds = new Map<string, number>();
  const roles = new Map<string, Set<string>>();
  for (const w of doc.workers) {
    if (w.type !== 'router') continue;
    for (const r of w.realms ?? []) roles.set(r.name, new Set((r.roles ?? []).map((role) => role.name)));
  }
  doc.workers.forEach((w, i) => {
    if (w.id !== undefined) {
      const first = workerIds.get(w.id);
      if (first === undefined) workerIds.set(w.id, i);
      else problems.push(`${formatPath(['workers', i, 'id'])}: duplicate worker id ${JSON.stringify(w.id)} (first at ${formatPath(['workers', first, 'id'])})`);
    }
    if (w.type === 'guest' || w.type === 'websocket-testee') return;
    const componentIds = new Map<string, number>();
    const components: readonly { id?: string | undefined; realm: string; role?: string | undefined }[] = w.components ?? [];
    components.forEach((c, j) => {
      const at = ['workers', i, 'components', j];
      if (c.id !== undefined) {
        const first = componentIds.get(c.id);
        if (first === undefined) componentIds.set(c.id, j);
        else problems.push(`${formatPath([...at, 'id'])}: duplicate component id ${JSON.stringify(c.id)} in this worker (first at ${formatPath(['workers', i, 'components', first, 'id'])})`);
      }
      if (w.type !== 'router') return;
      const realm = roles.get(c.realm);
      if (realm === undefined) {
        problems.push(`${formatPath([...at, 'realm'])}: no realm ${JSON.stringify(c.realm)} in this config`);
        return;
      }
      const role = c.role ?? 'anonymous';
      if (role !== TRUSTED && !realm.has(role)) {
        problems.push(`${formatPath([...at, c.role === undefined ? 'realm' : 'role'])}: no role ${JSON.stringify(role)} in realm ${JSON.stringify(c.realm)}` +
          (c.role === undefined ? ' (a router component joins as "anonymous" unless it names a "role")' : ''));
      }
    });
  });
  return problems;
}
