/** `xbar` command line: start, relay, check, init, wampcra-key, version. */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { checkCommand } from './check.js';
import { initCommand } from './init.js';
import { LOG_FORMATS } from './log-output.js';
import { relayCommand, type RelayOptions } from './relay.js';
import { startCommand, type StartOptions } from './start.js';
import { WAMPCRA_KEY_DEFAULTS, wampcraKeyCommand, type WampCraKeyOptions } from './wampcra-key.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('xbar')
  .description('Real-time message router: WAMP v2 router and WebSocket stream relay')
  .version(pkg.version, '-V, --version');

program
  .command('start')
  .description('start a node (no --config: the embedded default, realm "realm1" at ws://127.0.0.1:8080/ws)')
  .option('-c, --config <file>', 'Crossbar.io-format node config (.json, .yaml or .yml)')
  .option('--cbdir <dir>', 'Crossbar.io node directory: its config.json or config.yaml (as crossbar start --cbdir)')
  .option('--cluster <urls>', 'join a cluster over NATS (comma-separated nats:// URLs; overrides the config\'s cluster.nats.servers)')
  .option('--cluster-name <name>', 'cluster name (nodes with the same name on the same NATS form one router)')
  .option('--node-name <name>', 'this node\'s name in logs and statistics')
  .option('-l, --listen <host:port>', 'where the embedded default serves WebSocket (its RawSocket: the next port); default 127.0.0.1:8080')
  .option('-p, --port <n>', 'the embedded default\'s WebSocket port on 127.0.0.1 (RawSocket: the next port)')
  .option('-w, --workers <n>', 'router processes sharing the node\'s ports, one per core with "auto" (default 1)')
  .option('--worker-timeout <seconds>', 'with --workers: a worker that does not answer the primary\'s heartbeat this long (its event loop is blocked) is killed and restarted (default 10)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
  .addOption(new Option('--log-format <format>', 'log lines: readable (pretty) or pino JSON; default pretty at a terminal, else json').choices(LOG_FORMATS))
  .action((opts: StartOptions) => startCommand(opts));

program
  .command('relay')
  .description('run the WebSocket stream relay alone at the root of one port (practable crossbar compatible: /<topic>, /in/<topic>, /out/<topic>, /stats)')
  .option('-l, --listen <host:port>', 'where to listen (env XBAR_LISTEN; default 127.0.0.1:8080)')
  .option('--secret <secret>', 'require HS256 tokens signed with this secret (env XBAR_SECRET)')
  .option('--audience <aud>', 'required token audience (env XBAR_AUDIENCE)')
  .option('--admin-token <token>', 'bearer token for the deny-list API and the stats (env XBAR_ADMIN_TOKEN)')
  .addOption(new Option('--stats <access>', 'who sees /stats (env XBAR_STATS; default: admin with --secret, else public)').choices(['public', 'admin', 'off']))
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
  .addOption(new Option('--log-format <format>', 'log lines: readable (pretty) or pino JSON; default pretty at a terminal, else json').choices(LOG_FORMATS))
  .action((opts: RelayOptions) => relayCommand(opts));

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

program
  .command('wampcra-key')
  .description('print the key to configure as the "secret" of a salted WAMP-CRA user (clients log in with the password)')
  .option('--password <password>', 'the password (default: read the first line of standard input)')
  .requiredOption('--salt <salt>', 'the salt, as configured in "salt"')
  .option('--iterations <n>', 'PBKDF2 iterations, as configured in "iterations"', WAMPCRA_KEY_DEFAULTS.iterations)
  .option('--keylen <bytes>', 'derived key length, as configured in "keylen"', WAMPCRA_KEY_DEFAULTS.keylen)
  .action((opts: WampCraKeyOptions) => wampcraKeyCommand(opts));

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`xbar: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
