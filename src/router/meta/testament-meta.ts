/**
 * `wamp.session.add_testament(topic, args, kwargs, publish_options=?, scope=?)` and
 * `wamp.session.flush_testaments(scope=?)` (advanced/ap_pubsub_testament.md). The topic is checked
 * when the testament is added, as a PUBLISH would be: valid URI, not the router's own namespace,
 * and the session must be allowed to publish there.
 */
import { ErrorUri } from '../../wamp/errors.js';
import type { Dict } from '../../wamp/messages.js';
import { isReservedUri, isValidUri } from '../../wamp/uri.js';
import type { Realm } from '../realm.js';
import { LimitKey, overLimit } from '../session-limits.js';
import { describe, MetaError, type MetaCall, type MetaProcedure, stringArg } from './meta-call.js';
import { MAX_TESTAMENTS, type Testament, type TestamentScope, type TestamentStore } from './testaments.js';

function scopeOf(call: MetaCall): TestamentScope {
  const v = call.kwargs?.scope ?? 'destroyed';
  if (v !== 'destroyed' && v !== 'detached') {
    throw new MetaError(ErrorUri.testamentError, `${call.procedure}: scope must be "destroyed" or "detached", got ${describe(v)}`);
  }
  return v;
}

function list<T>(call: MetaCall, o: Dict, key: string, ok: (x: unknown) => x is T): T[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(ok)) throw new MetaError(ErrorUri.invalidArgument, `${call.procedure}: publish_options.${key} must be a list, got ${describe(v)}`);
  return v;
}

const isId = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0;
const isString = (x: unknown): x is string => typeof x === 'string';

export function testamentProcedures(realm: Realm, store: TestamentStore): Record<string, MetaProcedure> {
  return {
    'wamp.session.add_testament': async (call) => {
      const topic = stringArg(call, 0, 'topic');
      if (!isValidUri(topic, realm.uriCheck) || isReservedUri(topic)) {
        throw new MetaError(ErrorUri.invalidUri, `${call.procedure}: ${JSON.stringify(topic)} is not a topic a session may publish to`);
      }
      const args = call.args?.[1] ?? undefined;
      const kwargs = call.args?.[2] ?? undefined;
      if (args !== undefined && !Array.isArray(args)) throw new MetaError(ErrorUri.invalidArgument, `${call.procedure}: argument 2 (args) must be a list, got ${describe(args)}`);
      if (kwargs !== undefined && (typeof kwargs !== 'object' || Array.isArray(kwargs))) {
        throw new MetaError(ErrorUri.invalidArgument, `${call.procedure}: argument 3 (kwargs) must be a dict, got ${describe(kwargs)}`);
      }
      const scope = scopeOf(call);
      const o = call.kwargs?.publish_options ?? {};
      if (typeof o !== 'object' || o === null || Array.isArray(o)) {
        throw new MetaError(ErrorUri.invalidArgument, `${call.procedure}: publish_options must be a dict, got ${describe(o)}`);
      }
      const po = o as Dict;
      if (!realm.authorizer.authorize(call.session.authrole, topic, 'publish').allow) {
        throw new MetaError(ErrorUri.notAuthorized, `session is not authorized to publish to topic "${topic}"`);
      }
      // Publish options that make sense for a testament; acknowledge and exclude_me do not.
      const t: Testament = {
        topic, args: args as unknown[] | undefined, kwargs: kwargs as Dict | undefined,
        options: {
          exclude: list(call, po, 'exclude', isId), eligible: list(call, po, 'eligible', isId),
          excludeAuthid: list(call, po, 'exclude_authid', isString), excludeAuthrole: list(call, po, 'exclude_authrole', isString),
          eligibleAuthid: list(call, po, 'eligible_authid', isString), eligibleAuthrole: list(call, po, 'eligible_authrole', isString),
          retain: po.retain === true,
          ...(typeof po._mqtt === 'object' && po._mqtt !== null && !Array.isArray(po._mqtt) ? { mqtt: po._mqtt as Dict } : {}),
        },
      };
      const added = await store.add(call.session.id, scope, t);
      if (added === 'too-many') {
        throw new MetaError(ErrorUri.testamentError, `${call.procedure}: a session may hold at most ${MAX_TESTAMENTS} testaments per scope`);
      }
      if (added === 'too-large') {
        const max = store.maxBytes ?? 0;
        call.session.limits.refused?.(LimitKey.testamentBytes);
        const o = overLimit(LimitKey.testamentBytes, max, `${call.procedure}: the session's testaments would take more bytes than they may`);
        throw new MetaError(o.uri, o.message, o.kwargs);
      }
      return {};
    },
    'wamp.session.flush_testaments': async (call) => ({ args: [await store.flush(call.session.id, scopeOf(call))] }),
  };
}
