/** `xbar` command line: start, check, init, version. */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { checkCommand } from './check.js';
import { initCommand } from './init.js';
import { startCommand, type StartOptions } from './start.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('xbar')
  .description('Real-time message router: WAMP v2 router and WebSocket stream relay')
  .version(pkg.version, '-V, --version');

program
  .command('start')
  .description('start a node (no --config: the embedded default, realm "realm1" at ws://127.0.0.1:8080/ws)')
  .option('-c, --config <file>', 'Crossbar.io-format node config (.json, .yaml or .yml)')
  .option('--cluster <urls>', 'join a cluster over NATS (comma-separated nats:// URLs; overrides the config\'s cluster.nats.servers)')
  .option('--cluster-name <name>', 'cluster name (nodes with the same name on the same NATS form one router)')
  .option('--node-name <name>', 'this node\'s name in logs and statistics')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
  .action((opts: StartOptions) => startCommand(opts));

program
  .command('check')
  .description('validate a node config without starting')
  .argument('<file>', 'config file')
  .action((file: string) => checkCommand(file));

program
  .command('init')
  .description('write a commented starter config')
  .argument('[file]', 'where to write it', 'xbar.yaml')
  .option('-f, --force', 'overwrite an existing file')
  .action((file: string, opts: { force?: boolean }) => initCommand(file, opts.force === true));

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`xbar: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
