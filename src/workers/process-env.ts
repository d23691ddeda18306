/**
 * A worker's environment, as Crossbar.io builds it (`create_process_env` in
 * crossbar/node/controller.py): the node's whole environment unless `inherit` says otherwise
 * (false: nothing; a list: those variables), then `vars` on top, and PYTHONUNBUFFERED=1 unless
 * something above set it (so Python guests log line by line).
 */
import type { ProcessEnvConfig } from '../config/types-workers.js';

export function processEnv(config: ProcessEnvConfig, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  const copy = (name: string) => {
    const v = parent[name];
    if (v !== undefined) env[name] = v;
  };
  if (config.inherit === true) for (const name of Object.keys(parent)) copy(name);
  else if (config.inherit !== false) for (const name of config.inherit) copy(name);
  Object.assign(env, config.vars);
  if (!('PYTHONUNBUFFERED' in env)) env.PYTHONUNBUFFERED = '1';
  return env;
}
