import { existsSync, writeFileSync } from 'node:fs';
import { starterConfigYaml } from '../config/starter.js';

export function initCommand(file: string, force: boolean): void {
  if (existsSync(file) && !force) {
    process.stderr.write(`xbar: ${file} exists; use --force to overwrite\n`);
    process.exit(2);
  }
  writeFileSync(file, starterConfigYaml());
  process.stdout.write(`wrote ${file}; start with: npx xbar start --config ${file}\n`);
}
