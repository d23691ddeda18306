/**
 * Zod schema of the Crossbar.io node configuration (version 2) subset xbar runs: router workers
 * with realms, roles, static permissions and transports. It validates shape and types only;
 * `checks.ts` adds the rules that span several items and `normalize.ts` fills defaults.
 *
 * Reference: crossbario/crossbar `src/crossbar/common/checkconfig.py` (`check_config`,
 * `check_router`, `check_router_realm`, `check_router_realm_role`, `check_native_worker_options`).
 */
import { z } from 'zod';
import { clusterDocument } from './schema-cluster.js';
import { controller } from './schema-controller.js';
import { bool, byType, expect, int, listOf, nonEmpty, oneOf, only, str, strict, strings, tag } from './schema-kit.js';
import { configId, transports, websocketTransport } from './schema-transport.js';
import { limits } from './schema-auth.js';
import { realmSessionStats, realmStore, statsDocument } from './schema-stats.js';
import { rlinks } from './schema-rlinks.js';
import { NATIVE_UNSUPPORTED, NO_CONNECTIONS, NO_MANHOLE, containerWorker, guestWorker, nativeWorkerOptions, routerComponents } from './schema-workers.js';

/** A loose WAMP URI with non-empty components (the spec's loose rule, used for realm names). */
const LOOSE_URI = /^([^\s.#]+\.)*([^\s.#]+)$/;
/** A loose URI whose components may be empty: autobahn's `_URI_PAT_LOOSE_EMPTY`, as Crossbar.io checks permissions. */
const LOOSE_URI_EMPTY = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/;

const allow = strict({
  call: bool().optional(),
  register: bool().optional(),
  publish: bool().optional(),
  subscribe: bool().optional(),
});

const disclose = strict({ caller: bool().optional(), publisher: bool().optional() });

export const permission = strict(
  {
    uri: z.string(expect('URI string')).regex(LOOSE_URI_EMPTY, expect('WAMP URI (components without whitespace, "." or "#")')),
    match: oneOf(['exact', 'prefix', 'wildcard'], 'match policy').optional(),
    allow: allow.optional(),
    disclose: disclose.optional(),
    cache: bool().optional(),
  },
  ['validate'],
).check((ctx) => {
  // Without `match`, Crossbar.io reads a trailing "*" as prefix and inner "*"s as wildcards
  // ("starred URIs"). With `match` it keeps the "*" literally, so the permission silently never
  // applies; we refuse that combination instead.
  const { uri, match } = ctx.value;
  if (match !== undefined && uri.includes('*')) {
    ctx.issues.push({
      code: 'custom',
      path: ['uri'],
      input: uri,
      message:
        `"*" marks a starred URI and cannot be combined with "match"; ` +
        `write ${JSON.stringify(uri.replace(/\*/g, ''))} with match "${match}", or drop "match"`,
    });
  }
});

export const role = strict({
  name: nonEmpty().refine((name) => name !== 'trusted', {
    message: 'the role name "trusted" is reserved (Crossbar.io uses it for the router\'s own sessions)',
  }),
  permissions: listOf(permission, 'permissions').optional(),
  /** Crossbar.io's `RouterRole`: a role with neither permissions nor authorizer allows everything when true. */
  'allow-by-default': bool().optional(),
  /** Dynamic authorization: a procedure called with (session, uri, action, options). */
  authorizer: z
    .string(expect('procedure URI'))
    .regex(/^([0-9a-z_]+\.)*([0-9a-z_]+)$/, expect('procedure URI (strict: lowercase letters, digits, "_" and ".")'))
    .optional(),
}).check((ctx) => {
  // Crossbar.io uses `permissions` when both are given and ignores the authorizer; refuse instead.
  if (ctx.value.permissions !== undefined && ctx.value.authorizer !== undefined) {
    ctx.issues.push({
      code: 'custom',
      path: ['authorizer'],
      input: ctx.value.authorizer,
      message: 'a role has either "permissions" (static) or an "authorizer" (dynamic), not both',
    });
  }
});

const realmOptions = strict({
  uri_check: oneOf(['loose', 'strict'], 'URI check').optional(),
  enable_meta_api: only(true, 'disabling the meta API is not supported by xbar yet').optional(),
  bridge_meta_api: only(false, 'bridging the meta API is not supported by xbar yet').optional(),
  /** Tunes Crossbar.io's event dispatch loop; xbar has none to tune. */
  event_dispatching_chunk_size: int(1, Number.MAX_SAFE_INTEGER).optional(),
});

export const realm = strict(
  {
    name: z.string(expect('realm name')).regex(LOOSE_URI, expect('realm name (a WAMP URI)')),
    id: configId.optional(),
    roles: listOf(role, 'roles').optional(),
    options: realmOptions.optional(),
    /** Event history and retention limits (`schema-stats.ts`); Crossbar.io's memory store. */
    store: realmStore.optional(),
    rlinks: rlinks.optional(),
    /** Crossbar.io's session statistics: `wamp.session.on_stats` (router/meta/session-stats.ts). */
    stats: realmSessionStats.optional(),
    /** Crossbar.io's router never reads it (any value passes its checks); a warning says so (warnings.ts). */
    trace: z.unknown().optional(),
  },
  ['inventory'],
  {
    inventory: 'the realm inventory (payload schemas) is a Crossbar.io feature xbar does not run; remove the key',
  },
);

/** Options of a router worker: those of every native worker (`schema-workers.ts`). */
const workerOptions = strict(nativeWorkerOptions, [...NATIVE_UNSUPPORTED], {
  disabled: 'a disabled worker is a Crossbar.io feature xbar does not run; remove the worker from the config instead',
});

export const routerWorker = strict(
  {
    type: tag('router', 'worker type'),
    id: configId.optional(),
    options: workerOptions.optional(),
    realms: listOf(realm, 'realms').optional(),
    transports: transports.optional(),
    /** Python components beside the router (`schema-workers.ts`). */
    components: routerComponents.optional(),
  },
  ['manhole', 'connections'],
  { manhole: NO_MANHOLE, connections: NO_CONNECTIONS },
);

/**
 * Crossbar.io's `websocket-testee` worker (`check_websocket_testee`): a WebSocket echo server on the
 * listening `websocket` transport it names, for the Autobahn testsuite; xbar serves it in-process.
 */
export const websocketTesteeWorker = strict({
  type: tag('websocket-testee', 'worker type'),
  id: configId.optional(),
  options: strict(nativeWorkerOptions).optional(),
  transport: websocketTransport,
});

export const nodeConfigDocument = strict(
  {
    $schema: str().optional(),
    version: z.literal(2, { error: () => 'expected 2\nxbar reads Crossbar.io node configurations of version 2' }),
    /** The node controller (`schema-controller.ts`): the node's id, title and shutdown triggers. */
    controller: controller.optional(),
    /** xbar's per-IP defences (`schema-auth.ts`); absent = generous defaults. */
    limits: limits.optional(),
    /** xbar's statistics (`schema-stats.ts`); absent = on, with defaults. */
    stats: statsDocument.optional(),
    /** xbar's scale-out over NATS (`schema-cluster.ts`); absent = one embedded node. */
    cluster: clusterDocument.optional(),
    // A union of one, so that another worker type is one problem, not one per key it has.
    workers: listOf(
      byType('worker type', ['router', 'container', 'guest', 'websocket-testee'], {
        proxy: 'run the nodes behind HAProxy or as one xbar cluster (the top-level "cluster" key)',
        hostmonitor: 'remove the worker; xbar\'s /metrics and /stats paths report on the node',
        xbrmm: 'the XBR market maker is a Crossbar.io feature xbar does not run; remove the worker',
      }, [
        routerWorker, containerWorker, guestWorker, websocketTesteeWorker,
      ]),
      'workers',
      1,
    ),
  },
);

/** A Crossbar.io-format node configuration as written (before defaults). */
export type NodeConfigDocument = z.input<typeof nodeConfigDocument>;
/** The same after validation. */
export type ValidDocument = z.output<typeof nodeConfigDocument>;
export type RouterWorkerDocument = z.output<typeof routerWorker>;
export type ContainerWorkerDocument = z.output<typeof containerWorker>;
export type GuestWorkerDocument = z.output<typeof guestWorker>;
export type WebSocketTesteeWorkerDocument = z.output<typeof websocketTesteeWorker>;
export type PermissionDocument = z.output<typeof permission>;
