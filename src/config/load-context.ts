/**
 * What normalizing a document needs from the outside world: the directory relative file names
 * are resolved against (the configuration file's, as Crossbar.io resolves them against its node
 * directory), the environment for `${VAR}` secrets, and a list collecting every problem with its
 * key path, so that a missing key file fails at start, not at the first TLS handshake.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { formatPath, type KeyPath } from './issues.js';

/** Crossbar.io's `maybe_from_env` pattern: the whole value is `${NAME}`. */
const ENV_REF = /^\$\{([^}]+)\}$/;

export type PemKind = 'private key' | 'certificate' | 'public key' | 'DH parameters';

export class LoadContext {
  readonly problems: string[] = [];
  /** The router workers' `options.pythonpath` and `python`, for function authenticators (set by normalize.ts). */
  routerPython: { readonly pythonpath: readonly string[]; readonly python?: string } = { pythonpath: [] };

  constructor(
    readonly baseDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  problem(at: KeyPath, message: string): void {
    this.problems.push(`${formatPath(at)}: ${message}`);
  }

  /** The file name as an absolute path. */
  path(file: string): string {
    return isAbsolute(file) ? file : resolve(this.baseDir, file);
  }

  /** The text of a file named in the config; undefined (and a problem) when it cannot be read. */
  readText(at: KeyPath, file: string): string | undefined {
    const path = this.path(file);
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      this.problem(at, `cannot read ${JSON.stringify(path)}: ${readFailure(err)}`);
      return undefined;
    }
  }

  /** A PEM file of the given kind, checked by parsing it. */
  readPem(at: KeyPath, file: string, kind: PemKind): string | undefined {
    const text = this.readText(at, file);
    if (text === undefined) return undefined;
    try {
      switch (kind) {
        case 'private key':
          createPrivateKey(text);
          break;
        case 'certificate':
          new X509Certificate(text);
          break;
        case 'public key':
          createPublicKey(text);
          break;
        case 'DH parameters':
          if (!text.includes('-----BEGIN DH PARAMETERS-----')) throw new Error('no DH PARAMETERS block');
          break;
      }
    } catch {
      this.problem(at, `${JSON.stringify(this.path(file))} is not a PEM ${kind}`);
      return undefined;
    }
    return text;
  }

  /** `${VAR}` → the variable's value (a problem if unset); any other value as is. */
  secret(at: KeyPath, value: string): string {
    const m = ENV_REF.exec(value);
    if (!m) return value;
    const name = m[1]!;
    const v = this.env[name];
    if (v === undefined || v === '') {
      this.problem(at, `environment variable ${name} is not set (referenced as ${value})`);
      return '';
    }
    return v;
  }
}

function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return (err as Error).message;
}
