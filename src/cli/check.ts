import { loadConfigFile } from '../config/load.js';
import { reportConfigError } from './start.js';

export async function checkCommand(file: string): Promise<void> {
  try {
    const config = await loadConfigFile(file);
    const transports = config.transports.length;
    for (const w of config.warnings ?? []) process.stderr.write(`xbar: ${file}: warning: ${w}\n`);
    process.stdout.write(`${file}: ok (${config.realms.length} realm(s), ${transports} transport(s))\n`);
  } catch (e) {
    reportConfigError(e);
    process.exit(2);
  }
}
