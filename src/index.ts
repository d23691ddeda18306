/**
 * The package's entry point (`main`): run a node in process. `xbar start` is this: load a
 * config (Crossbar.io's `.crossbar/config.json` or YAML), start an `XbarNode`, stop it.
 *
 *   import { loadConfigFile, XbarNode } from 'xbar';
 *   const node = new XbarNode(await loadConfigFile('.crossbar/config.json'));
 *   await node.start();
 */
export { XbarNode, type ListeningAddress, type NodeOptions } from './node.js';
export { type ConfigFormat, loadConfigFile, parseConfig, parseConfigText } from './config/load.js';
export type { NodeConfig } from './config/types.js';
export { type EventHandler, LocalClient, type Procedure, WampError } from './client/local-client.js';
export type { Backplane, BackplaneHealth } from './backplane/backplane.js';
