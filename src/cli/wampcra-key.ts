/**
 * `xbar wampcra-key`: prints the key to configure as the `secret` of a salted WAMP-CRA user, i.e.
 * base64(PBKDF2-HMAC-SHA256(password, salt, iterations, keylen)), what Autobahn's `derive_key`
 * and wampy-cra's `deriveKey` compute on the client from the password. Without `--password` the
 * password is read from standard input (first line), so it stays out of the process list.
 */
import { PBKDF2_DEFAULTS, deriveKey } from '../auth/wampcra.js';

export interface WampCraKeyOptions {
  readonly password?: string;
  readonly salt: string;
  readonly iterations: string;
  readonly keylen: string;
}

function positive(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/, 1)[0] ?? '';
}

export async function wampcraKeyCommand(o: WampCraKeyOptions): Promise<void> {
  // The bounds of the config schema (schema-auth.ts), so every key printed is one it accepts.
  const iterations = positive('iterations', o.iterations, 10_000_000);
  const keylen = positive('keylen', o.keylen, 1024);
  if (o.salt === '') throw new Error('--salt must not be empty');
  const password = o.password ?? (await firstLine(process.stdin));
  if (password === '') throw new Error('no password: give --password or write it to standard input');
  process.stdout.write(`${await deriveKey(password, { salt: o.salt, iterations, keylen })}\n`);
}

export const WAMPCRA_KEY_DEFAULTS = { iterations: String(PBKDF2_DEFAULTS.iterations), keylen: String(PBKDF2_DEFAULTS.keylen) };
