/**
 * Registration meta procedures (advanced/ap_rpc_registration_meta_api.md). Every node's dealer
 * mirrors the cluster-wide registry, so these are answered here for the whole realm; callees on
 * other nodes are listed too. `match` is always named ("exact", never "": DESIGN.md, Interop facts).
 * A question about one registration first brings its mirror up to date (`Backplane.refresh`), so
 * a callee whose REGISTERED another node has just sent is already counted.
 */
import { ErrorUri } from '../../wamp/errors.js';
import type { Dict } from '../../wamp/messages.js';
import type { Realm } from '../realm.js';
import type { Registration } from '../registration.js';
import { dictArg, idArg, matchOption, MetaError, type MetaCall, type MetaProcedure, stringArg } from './meta-call.js';

export function registrationDetails(reg: Registration): Dict {
  return { id: reg.id, created: reg.created.toISOString(), uri: reg.uri, match: reg.match, invoke: reg.invoke };
}

export function registrationProcedures(realm: Realm): Record<string, MetaProcedure> {
  const dealer = realm.dealer;
  const find = async (call: MetaCall): Promise<Registration> => {
    const id = idArg(call, 0, 'registration');
    const known = dealer.registration(id);
    if (known) await realm.backplane.refresh(realm.name, known.uri, known.match);
    const reg = dealer.registration(id);
    if (!reg || reg.callees.length === 0) {
      throw new MetaError(ErrorUri.noSuchRegistration, `no registration with ID ${id} exists in realm "${realm.name}"`);
    }
    return reg;
  };
  return {
    'wamp.registration.list': () => {
      const lists: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
      for (const reg of dealer.registrations()) if (reg.callees.length > 0) lists[reg.match]!.push(reg.id);
      return { args: [lists] };
    },
    'wamp.registration.lookup': (call) => {
      const uri = stringArg(call, 0, 'procedure');
      const match = matchOption(call, dictArg(call, 1, 'options'));
      return { args: [dealer.lookup(uri, match)?.id ?? null] };
    },
    'wamp.registration.match': (call) => ({ args: [dealer.bestMatch(stringArg(call, 0, 'procedure'))?.id ?? null] }),
    'wamp.registration.get': async (call) => ({ args: [registrationDetails(await find(call))] }),
    'wamp.registration.list_callees': async (call) => ({ args: [(await find(call)).callees.map((c) => c.sessionId)] }),
    'wamp.registration.count_callees': async (call) => ({ args: [(await find(call)).callees.length] }),
  };
}
