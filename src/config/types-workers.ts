/**
 * The normalized worker processes of a node (`normalize-workers.ts` builds them): guests, Python
 * component hosts (a container worker, or a router worker's components). Every path in here is
 * absolute, resolved against the node directory as Crossbar.io resolves it.
 */

/** When a process (or a container's component) that ended is started again. */
export type RestartMode = 'restart-never' | 'restart-on-failed' | 'restart-always';

/** `options.env`: what a worker process inherits from the node, and what it sets. */
export interface ProcessEnvConfig {
  /** true: the whole environment; false: none; a list: those variables. */
  readonly inherit: boolean | readonly string[];
  readonly vars: Readonly<Record<string, string>>;
}

export type StdioAction = 'close' | 'log' | 'drop';

export interface GuestWorkerConfig {
  readonly type: 'guest';
  readonly id: string;
  /** As configured: a path (tried relative to `workdir`) or a name looked up on PATH at start. */
  readonly executable: string;
  readonly arguments: readonly string[];
  readonly workdir: string;
  readonly env: ProcessEnvConfig;
  /** undefined: stdin stays an open pipe (Crossbar.io's default). */
  readonly stdin?: { readonly close: true } | { readonly json: unknown; readonly close: boolean };
  readonly stdout: StdioAction;
  readonly stderr: StdioAction;
  /** Restart the guest when a file under these directories changes. */
  readonly watch?: { readonly directories: readonly string[]; readonly delayMs: number };
  /** xbar's `options.restart`; Crossbar.io's way, `restart-never`, is the default. */
  readonly restart: RestartMode;
}

/** The Python side of a native worker (`options.python`, `pythonpath`, `env`). */
export interface PythonConfig {
  /** undefined: the system's Python 3 (`/usr/bin/python3`, else `python3` on PATH). */
  readonly python?: string;
  readonly pythonpath: readonly string[];
  readonly env: ProcessEnvConfig;
  /** The Twisted reactor `options.reactor` names for this platform (undefined: Twisted's default). */
  readonly reactor?: string;
  /** `options.expose_controller`: components get `config.controller` (workers/node-controller.ts). */
  readonly exposeController: boolean;
  /** `options.expose_shared`: components of the process share `config.shared`. */
  readonly exposeShared: boolean;
}

export type ConnectingEndpoint =
  | {
      readonly type: 'tcp';
      readonly host: string;
      readonly port: number;
      readonly version: 4 | 6;
      /** Seconds. */
      readonly timeout: number;
      readonly tls?: { readonly hostname: string; readonly caCertificates?: readonly string[]; readonly certificate?: string; readonly key?: string };
    }
  | { readonly type: 'unix'; readonly path: string; readonly timeout: number };

/** How a container component reaches its router. */
export interface ConnectingTransportConfig {
  readonly type: 'websocket' | 'rawsocket';
  readonly endpoint: ConnectingEndpoint;
  /** WebSocket URL (the Host header and path of the opening handshake). */
  readonly url?: string;
  /** WebSocket: the serializers offered, in order (undefined: Autobahn's default); RawSocket: exactly one. */
  readonly serializers?: readonly string[];
  /** Crossbar.io's transport `options`, as written. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface ComponentBase {
  readonly id: string;
  readonly classname: string;
  readonly realm: string;
  /** The component's `config.extra`, with `cbdir` added as Crossbar.io does. */
  readonly extra: unknown;
}

/** A router component: joined to `realm` with `role`, without authentication. */
export interface RouterComponentConfig extends ComponentBase {
  readonly role: string;
}

export interface ContainerComponentConfig extends ComponentBase {
  readonly transport: ConnectingTransportConfig;
}

export type ContainerShutdown =
  | 'shutdown-manual'
  | 'shutdown-on-last-component-stopped'
  | 'shutdown-on-any-component-failed'
  | 'shutdown-on-any-component-stopped';

/** A router worker's components: one Python process beside the router. */
export interface RouterComponentsWorkerConfig {
  readonly type: 'router-components';
  /** The router worker's id. */
  readonly id: string;
  readonly python: PythonConfig;
  readonly components: readonly RouterComponentConfig[];
}

/** A container worker: one Python process whose components connect over their transports. */
export interface ContainerWorkerConfig {
  readonly type: 'container';
  readonly id: string;
  readonly python: PythonConfig;
  readonly components: readonly ContainerComponentConfig[];
  /** Restart of a component whose session ended (Crossbar.io's container `restart`). */
  readonly restart: RestartMode;
  readonly shutdown: ContainerShutdown;
}

export type WorkerConfig = GuestWorkerConfig | RouterComponentsWorkerConfig | ContainerWorkerConfig;

/** What a node runs besides its router. */
/** Crossbar.io's node shutdown triggers (`controller.options.shutdown`). */
export type ShutdownTrigger =
  | 'shutdown_on_shutdown_requested'
  | 'shutdown_on_worker_exit'
  | 'shutdown_on_worker_exit_with_error'
  | 'shutdown_on_last_worker_exit';

export interface WorkersConfig {
  /** The node directory (Crossbar.io's cbdir): the config file's folder. */
  readonly cbdir: string;
  readonly workers: readonly WorkerConfig[];
  /** When a guest or container worker's end stops the node (workers/shutdown-triggers.ts). */
  readonly shutdown: readonly ShutdownTrigger[];
  /** Workers xbar runs inside the node (router, websocket-testee): they end only with it, so while there is one the last worker never exits. */
  readonly inProcess: number;
}
