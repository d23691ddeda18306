/**
 * A validated document's workers → `WorkersConfig`: guest workers, container workers and each
 * router worker's components, with the ids Crossbar.io gives them ("worker001", "component001",
 * numbered in config order) and every relative path resolved against the node directory (the
 * config file's folder, Crossbar.io's cbdir), as `crossbar/node/controller.py` resolves them.
 */
import { isAbsolute, resolve } from 'node:path';
import { isNativeComponent } from './normalize-outbound.js';
import type { LoadContext } from './load-context.js';
import type { ContainerWorkerDocument, GuestWorkerDocument, RouterWorkerDocument, ValidDocument } from './schema.js';
import type {
  ConnectingEndpoint, ConnectingTransportConfig, ContainerWorkerConfig, GuestWorkerConfig, ProcessEnvConfig,
  PythonConfig, RouterComponentsWorkerConfig, WorkerConfig, WorkersConfig,
} from './types-workers.js';

export const WORKER_DEFAULTS = {
  /** As Crossbar.io: a guest that exited stays stopped (xbar's `options.restart` changes it). */
  guestRestart: 'restart-never',
  /** Crossbar.io's node default: any worker's exit stops the node. */
  shutdown: ['shutdown_on_worker_exit'],
  /** Crossbar.io's container default: a component whose session ended stays stopped. */
  containerRestart: 'restart-never',
  containerShutdown: 'shutdown-manual',
  /** Seconds between a watched change and the restart (Crossbar.io's `watch.timeout` default). */
  watchTimeout: 1,
  /** Seconds to connect (Crossbar.io's connecting endpoint `timeout` default). */
  connectTimeout: 10,
} as const;

type NativeOptions = NonNullable<RouterWorkerDocument['options']> | NonNullable<ContainerWorkerDocument['options']>;
type EnvDocument = NonNullable<NonNullable<GuestWorkerDocument['options']>['env']>;
type ContainerComponentDocument = NonNullable<ContainerWorkerDocument['components']>[number];

/** Numbers items without an id as Crossbar.io does: "<prefix>001", "<prefix>002", … skipping taken ids. */
class Ids {
  private next = 1;
  constructor(private readonly prefix: string, private readonly taken: ReadonlySet<string>) {}

  id(given: string | undefined): string {
    if (given !== undefined) return given;
    for (;;) {
      const id = `${this.prefix}${String(this.next++).padStart(3, '0')}`;
      if (!this.taken.has(id)) return id;
    }
  }
}

function processEnv(env: EnvDocument | undefined): ProcessEnvConfig {
  return { inherit: env?.inherit ?? true, vars: env?.vars ?? {} };
}

function under(cbdir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(cbdir, p);
}

function python(options: NativeOptions | undefined, cbdir: string): PythonConfig {
  // Crossbar.io picks the entry for the node's platform (Python's sys.platform names; Node's match).
  const reactor = options?.reactor?.[process.platform];
  return {
    ...(options?.python === undefined ? {} : { python: options.python }),
    ...(reactor === undefined ? {} : { reactor }),
    pythonpath: (options?.pythonpath ?? []).map((p) => under(cbdir, p)),
    env: processEnv(options?.env),
    exposeController: options?.expose_controller ?? false,
    exposeShared: options?.expose_shared ?? false,
  };
}

/** The component's `extra` with `cbdir`, as Crossbar.io hands it to the session. */
function extra(given: Record<string, unknown> | undefined, cbdir: string): Record<string, unknown> {
  return { ...given, cbdir };
}

function guest(w: GuestWorkerDocument, id: string, cbdir: string): GuestWorkerConfig {
  const o = w.options ?? {};
  const stdin = o.stdin === undefined ? undefined
    : o.stdin === 'close' ? { close: true as const }
      : { json: o.stdin.value, close: o.stdin.close ?? true };
  return {
    type: 'guest',
    id,
    executable: w.executable,
    arguments: w.arguments ?? [],
    workdir: o.workdir === undefined ? cbdir : under(cbdir, o.workdir),
    env: processEnv(o.env),
    ...(stdin === undefined ? {} : { stdin }),
    stdout: o.stdout ?? 'log',
    stderr: o.stderr ?? 'log',
    ...(o.watch === undefined ? {} : {
      watch: {
        directories: (o.watch.directories ?? []).map((d) => under(cbdir, d)),
        delayMs: Math.round((o.watch.timeout ?? WORKER_DEFAULTS.watchTimeout) * 1000),
      },
    }),
    restart: o.restart ?? WORKER_DEFAULTS.guestRestart,
  };
}

function endpoint(e: ContainerComponentDocument['transport']['endpoint'], cbdir: string): ConnectingEndpoint {
  const timeout = e.timeout ?? WORKER_DEFAULTS.connectTimeout;
  if (e.type === 'unix') return { type: 'unix', path: under(cbdir, e.path), timeout };
  const tls = e.tls && {
    hostname: e.tls.hostname,
    ...(e.tls.ca_certificates ? { caCertificates: e.tls.ca_certificates.map((f) => under(cbdir, f)) } : {}),
    ...(e.tls.certificate ? { certificate: under(cbdir, e.tls.certificate) } : {}),
    ...(e.tls.key ? { key: under(cbdir, e.tls.key) } : {}),
  };
  return { type: 'tcp', host: e.host, port: e.port, version: e.version ?? 4, timeout, ...(tls ? { tls } : {}) };
}

function transport(t: ContainerComponentDocument['transport'], cbdir: string): ConnectingTransportConfig {
  const base = { endpoint: endpoint(t.endpoint, cbdir), options: (t.options ?? {}) as Record<string, unknown> };
  if (t.type === 'rawsocket') return { type: 'rawsocket', ...base, serializers: [t.serializer] };
  return { type: 'websocket', ...base, url: t.url, ...(t.serializers ? { serializers: t.serializers } : {}) };
}

function container(w: ContainerWorkerDocument, id: string, cbdir: string, components: Ids): ContainerWorkerConfig {
  return {
    type: 'container',
    id,
    python: python(w.options, cbdir),
    components: pythonComponents(w.components).map((c) => ({
      id: components.id(c.id),
      classname: c.classname,
      realm: c.realm,
      extra: extra(c.extra, cbdir),
      transport: transport(c.transport, cbdir),
    })),
    restart: w.options?.restart ?? WORKER_DEFAULTS.containerRestart,
    shutdown: w.options?.shutdown ?? WORKER_DEFAULTS.containerShutdown,
  };
}

function routerComponents(w: RouterWorkerDocument, id: string, cbdir: string, components: Ids): RouterComponentsWorkerConfig {
  return {
    type: 'router-components',
    id,
    python: python(w.options, cbdir),
    components: pythonComponents(w.components).map((c) => ({
      id: components.id(c.id),
      classname: c.classname,
      realm: c.realm,
      // Crossbar.io's default role of a router component.
      role: c.role ?? 'anonymous',
      extra: extra(c.extra, cbdir),
    })),
  };
}

/** Components the Python host runs: all but the HTTP bridge's, which run natively (`normalize-outbound.ts`). */
function pythonComponents<C extends { classname: string }>(components: readonly C[] | undefined): C[] {
  return (components ?? []).filter((c) => !isNativeComponent(c.classname));
}

/** The worker ids Crossbar.io gives, in config order (explicit ids kept). */
export function workerIds(doc: ValidDocument): string[] {
  const ids = new Ids('worker', new Set(doc.workers.flatMap((w) => (w.id === undefined ? [] : [w.id]))));
  return doc.workers.map((w) => ids.id(w.id));
}

/** `{ workers }` for the node config; nothing when the document has no workers besides routers without components. */
export function workersConfig(doc: ValidDocument, ctx: LoadContext): { workers?: WorkersConfig } {
  const cbdir = ctx.baseDir;
  const ids = workerIds(doc);
  const takenComponents = new Set(
    doc.workers.flatMap((w) => (w.type === 'guest' || w.type === 'websocket-testee' ? [] : (w.components ?? []).flatMap((c) => (c.id === undefined ? [] : [c.id])))),
  );
  const components = new Ids('component', takenComponents);
  const workers: WorkerConfig[] = [];
  doc.workers.forEach((w, i) => {
    const id = ids[i]!;
    if (w.type === 'guest') workers.push(guest(w, id, cbdir));
    else if (w.type === 'container') {
      if (w.components === undefined || pythonComponents(w.components).length > 0) workers.push(container(w, id, cbdir, components));
    } else if (w.type === 'router' && pythonComponents(w.components).length > 0) workers.push(routerComponents(w, id, cbdir, components));
  });
  if (workers.length === 0) return {};
  const shutdown = doc.controller?.options?.shutdown ?? WORKER_DEFAULTS.shutdown;
  return { workers: { cbdir, workers, shutdown, inProcess: doc.workers.filter((w) => w.type === 'router' || w.type === 'websocket-testee').length } };
}
