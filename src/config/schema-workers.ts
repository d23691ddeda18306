/**
 * Zod schemas of the worker processes a Crossbar.io node starts besides its router: `guest`
 * workers (any executable), `container` workers (Python components connecting over a transport)
 * and a router worker's `components` (Python components running beside the router). Key names and
 * values follow crossbario/crossbar `src/crossbar/common/checkconfig.py` (`check_guest`,
 * `check_container`, `check_container_component`, `check_router_component`,
 * `check_native_worker_options`, `check_process_env`, `check_connecting_transport*`,
 * `check_connecting_endpoint*`). xbar's own key is `restart` of a guest (see README).
 */
import { z } from 'zod';
import { bool, byType, expect, int, listOf, nonEmpty, oneOf, str, strict, strings, tag } from './schema-kit.js';
import { configId, rawsocketOptions, serializers, websocketOptions } from './schema-transport.js';

/** `options.env` of any worker (`check_process_env`). */
export const processEnv = strict({
  inherit: z.union([z.boolean(), z.array(z.string())], expect('true, false or a list of variable names')).optional(),
  vars: z.record(z.string(), z.string(expect('string')), expect('object of strings')).optional(),
});

/** Options every native (Python) worker has: router and container (`check_native_worker_options`). */
export const nativeWorkerOptions = {
  title: str().optional(),
  /** Absolute path of the Python that runs the worker's components (default: the system's). */
  python: z.string(expect('absolute path of a Python executable')).regex(/^\//, expect('absolute path of a Python executable')).optional(),
  /** Module search paths, relative to the node directory. */
  pythonpath: strings().optional(),
  /** Pins Crossbar.io's worker process to CPUs; xbar's processes run where the OS puts them. */
  cpu_affinity: z.array(int(0, 65535), expect('list of CPU numbers')).optional(),
  env: processEnv.optional(),
  extra: z.unknown().optional(),
  /** The Twisted reactor per platform, e.g. {"linux": "epoll"} (Python's sys.platform names). */
  reactor: z.record(z.string(), oneOf(['select', 'poll', 'epoll', 'kqueue', 'iocp', 'asyncio'], 'Twisted reactor'), expect('object of platform: reactor')).optional(),
  /** The components' `config.controller`: xbar's stand-in for the node controller session (workers/node-controller.ts). */
  expose_controller: bool().optional(),
  /** The components' `config.shared`: one dict per worker process, `{"reactor": reactor}` at the start. */
  expose_shared: bool().optional(),
};

export const NATIVE_UNSUPPORTED = ['disabled'] as const;

export const NO_CONNECTIONS = 'database connections of a worker are a Crossbar.io feature xbar does not run; connect from the component itself';
export const NO_MANHOLE = 'the manhole (an SSH shell into the worker) is a Crossbar.io feature xbar does not run; remove the key';

// ---- guest workers ------------------------------------------------------------------------------

const guestStdio = () => oneOf(['close', 'log', 'drop'], 'stdout/stderr action');

const guestOptions = strict({
  env: processEnv.optional(),
  /** Working directory, relative to the node directory (the config file's folder). */
  workdir: str().optional(),
  stdin: z
    .union(
      [
        z.literal('close'),
        strict({ type: oneOf(['json'], 'stdin type'), value: z.unknown(), close: bool().optional() }),
      ],
      expect('"close" or {type: "json", value, close}'),
    )
    .optional(),
  stdout: guestStdio().optional(),
  stderr: guestStdio().optional(),
  watch: strict({
    directories: strings().optional(),
    action: oneOf(['restart'], 'watch action').optional(),
    /** Seconds between stopping the guest and starting it again. */
    timeout: z.number(expect('number of seconds')).min(0).max(3600).optional(),
  }).optional(),
  /** xbar: when a guest that exited is started again (Crossbar.io never restarts one). */
  restart: oneOf(['restart-never', 'restart-on-failed', 'restart-always'], 'restart mode').optional(),
});

export const guestWorker = strict({
  type: tag('guest', 'worker type'),
  id: configId.optional(),
  executable: nonEmpty(),
  arguments: strings().optional(),
  options: guestOptions.optional(),
});

// ---- connecting transports (container components) ----------------------------------------------

/** A connecting endpoint's `tls` (Crossbar.io's check_connecting_endpoint_tls). */
export const connectingTls = strict({
  hostname: nonEmpty(),
  ca_certificates: strings().optional(),
  certificate: str().optional(),
  key: str().optional(),
});

/** Seconds to wait for the connection. */
const timeout = () => int(1, 3600, 'seconds');

const connectingTcp = strict({
  type: tag('tcp', 'endpoint type'),
  host: nonEmpty(),
  port: int(1, 65535),
  version: z.union([z.literal(4), z.literal(6)], expect('4 or 6')).optional(),
  timeout: timeout().optional(),
  tls: connectingTls.optional(),
});

const connectingUnix = strict({ type: tag('unix', 'endpoint type'), path: nonEmpty(), timeout: timeout().optional() });

const connectingEndpoint = byType('endpoint type', ['tcp', 'unix'], ['twisted', 'tor'], [connectingTcp, connectingUnix]);

const connectingWebSocket = strict({
  type: tag('websocket', 'transport type'),
  id: configId.optional(),
  endpoint: connectingEndpoint,
  url: z.string(expect('ws:// or wss:// URL')).regex(/^wss?:\/\/\S+$/, expect('ws:// or wss:// URL')),
  serializers: serializers.optional(),
  options: websocketOptions.optional(),
});

const connectingRawSocket = strict({
  type: tag('rawsocket', 'transport type'),
  id: configId.optional(),
  endpoint: connectingEndpoint,
  serializer: oneOf(['json', 'msgpack', 'cbor'], 'serializer', ['ubjson']),
  url: str().optional(),
  options: rawsocketOptions.optional(),
  debug: bool().optional(),
});

export const connectingTransport = byType('transport type', ['websocket', 'rawsocket'], [], [connectingWebSocket, connectingRawSocket]);

// ---- components ---------------------------------------------------------------------------------

const NO_FUNCTION_COMPONENT =
  'a component of type "function" (callbacks without a class) is a Crossbar.io feature xbar does not run; ' +
  'write an ApplicationSession class and use type "class"';

/** A component's `extra`: Crossbar.io adds `cbdir` to it, so it must be an object. */
const extraObject = z.record(z.string(), z.unknown(), expect('object'));

const componentKind = (what: string) => oneOf(['class'], what, ['function']);

/** A component beside the router: joins `realm` with `role` and no authentication. */
export const routerComponent = strict(
  {
    type: componentKind('component type'),
    id: configId.optional(),
    realm: nonEmpty(),
    role: nonEmpty().optional(),
    classname: nonEmpty(),
    extra: extraObject.optional(),
  },
  ['references', 'callbacks'],
  {
    references: 'references to worker connections are a Crossbar.io feature xbar does not run; remove the key',
    callbacks: NO_FUNCTION_COMPONENT,
  },
);

/** A component of a container: connects to a router over `transport` and authenticates as any client. */
export const containerComponent = strict(
  {
    type: componentKind('component type'),
    id: configId.optional(),
    realm: nonEmpty(),
    transport: connectingTransport,
    classname: nonEmpty(),
    extra: extraObject.optional(),
  },
  ['auth', 'callbacks'],
  { auth: NO_FUNCTION_COMPONENT, callbacks: NO_FUNCTION_COMPONENT },
);

const containerOptions = strict(
  {
    ...nativeWorkerOptions,
    shutdown: oneOf(
      ['shutdown-manual', 'shutdown-on-last-component-stopped', 'shutdown-on-any-component-failed', 'shutdown-on-any-component-stopped'],
      'shutdown mode',
    ).optional(),
    restart: oneOf(['restart-always', 'restart-on-failed', 'restart-never'], 'restart mode').optional(),
  },
  [...NATIVE_UNSUPPORTED],
).check((ctx) => {
  // Crossbar.io's `check_container_options`: combinations where the restart could never happen.
  const { restart, shutdown } = ctx.value;
  const impossible = [
    ['restart-always', 'shutdown-on-any-component-stopped'],
    ['restart-always', 'shutdown-on-any-component-failed'],
    ['restart-always', 'shutdown-on-last-component-stopped'],
    ['restart-on-failed', 'shutdown-on-any-component-failed'],
  ];
  if (impossible.some(([r, s]) => r === restart && s === shutdown)) {
    ctx.issues.push({ code: 'custom', path: ['restart'], input: restart, message: `"${restart}" won't work with shutdown "${shutdown}"` });
  }
});

export const containerWorker = strict(
  {
    type: tag('container', 'worker type'),
    id: configId.optional(),
    options: containerOptions.optional(),
    components: listOf(containerComponent, 'components').optional(),
  },
  ['manhole', 'connections'],
  { manhole: NO_MANHOLE, connections: NO_CONNECTIONS },
);

export const routerComponents = listOf(routerComponent, 'components');
