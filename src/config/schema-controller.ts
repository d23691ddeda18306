/**
 * The node controller's section (`controller`), as Crossbar.io checks it (`check_controller`,
 * `check_controller_options` in crossbar/common/checkconfig.py, and the edge personality's
 * `fabric`/`enable_docker` in crossbar/edge/personality.py). xbar runs `id` (the node's name),
 * `options.title` (the process title) and `options.shutdown` (workers/shutdown-triggers.ts); what
 * manages a Crossbar.io node from outside (manhole, keyring, a CrossbarFX uplink) is refused.
 */
import { z } from 'zod';
import { bool, expect, only, strict, unsupported } from './schema-kit.js';
import { configId } from './schema-transport.js';

export const SHUTDOWN_TRIGGERS = [
  'shutdown_on_shutdown_requested',
  'shutdown_on_worker_exit',
  'shutdown_on_worker_exit_with_error',
  'shutdown_on_last_worker_exit',
] as const;

const trigger = z.enum(SHUTDOWN_TRIGGERS, { error: () => `expected one of ${SHUTDOWN_TRIGGERS.map((t) => `"${t}"`).join(', ')}` });

const controllerOptions = strict({
  title: z.string(expect('string')).optional(),
  /** One trigger or a list (Crossbar.io takes both); absent = ["shutdown_on_worker_exit"]. */
  shutdown: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(trigger, expect('shutdown trigger or list of them'))).optional(),
  /** Crossbar.io starts workers in parallel with it; xbar starts them in config order either way. */
  enable_parallel_worker_start: bool().optional(),
});

const NO_UPLINK = 'the management uplink to a CrossbarFX master is a Crossbar.io feature xbar does not run; remove "transport" (or set it to null)';

/** The edge personality's uplink override; `{}` or a null transport means no uplink, which is xbar's way. */
const fabric = strict({
  transport: z.unknown().refine((v) => v === null || v === undefined, { message: NO_UPLINK }).optional(),
  heartbeat: unsupported('heartbeats to a CrossbarFX master are a Crossbar.io feature xbar does not run; remove the key').optional(),
});

export const controller = strict(
  {
    /** The node's name (Crossbar.io's node id); xbar's default cluster node name. */
    id: configId.optional(),
    options: controllerOptions.optional(),
    fabric: fabric.optional(),
    enable_docker: only(false, 'the Docker bridge is a CrossbarFX feature xbar does not run; remove the key').optional(),
  },
  ['manhole', 'connections', 'keyring', 'blockchain'],
  {
    manhole: 'the manhole (an SSH shell into the node) is a Crossbar.io feature xbar does not run; remove the key',
    connections: 'database connections of the controller are a Crossbar.io feature xbar does not run; remove the key',
    keyring: 'xbar keeps the node key in key.priv/key.pub of the node directory, as Crossbar.io\'s default; remove the key',
    blockchain: 'the XBR blockchain connection is a CrossbarFX feature xbar does not run; remove the key',
  },
);

export type ControllerDocument = z.output<typeof controller>;
