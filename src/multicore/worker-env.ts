/** What the primary tells each worker it forks (primary.ts), in the worker's environment. */
export const WORKER_ENV = {
  /** The worker's index, 0 … N-1 (a restarted worker keeps its index). */
  index: 'XBAR_WORKER_INDEX',
  /** The in-node backplane hub's Unix socket; absent when the workers join a NATS cluster. */
  hub: 'XBAR_WORKER_HUB',
} as const;

export interface WorkerRole {
  readonly index: number;
  readonly hub: string | undefined;
}

/** This process's role when it is a worker of `xbar start --workers N`; undefined otherwise. */
export function workerRole(env: NodeJS.ProcessEnv = process.env): WorkerRole | undefined {
  const index = env[WORKER_ENV.index];
  if (index === undefined || !/^\d+$/.test(index)) return undefined;
  return { index: Number(index), hub: env[WORKER_ENV.hub] };
}
