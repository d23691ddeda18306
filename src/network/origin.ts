/**
 * Origin headers and Crossbar.io's origin patterns, pure (Autobahn|Python's `_url_to_origin` and
 * `util.wildcards2patterns`): `parseOrigin` reads an Origin header as Python's `urlsplit` does,
 * `originPattern` compiles a wildcard ("." literal, "*" anything, the rest a regular expression, as
 * Crossbar.io compiles it) anchored at both ends. The check itself is `web/origin-check.ts`.
 */
import net from 'node:net';

/** Autobahn's `wildcards2patterns`: "." literal, "*" anything, anchored at both ends. Throws on an invalid result. */
export function originPattern(wildcard: string): RegExp {
  return new RegExp(`^${wildcard.replaceAll('.', '\\.').replaceAll('*', '.*')}$`);
}

/** Why `wildcard` is not a usable pattern, or undefined (for the config schema). */
export function originPatternError(wildcard: string): string | undefined {
  try {
    originPattern(wildcard);
    return undefined;
  } catch (e) {
    return `${JSON.stringify(wildcard)} is not a valid origin pattern: ${(e as Error).message}`;
  }
}

/** Autobahn's `_url_to_origin`: 'null', or scheme, host and port; throws with the reason. */
export function parseOrigin(text: string): 'null' | { scheme: string; host: string; port: number | undefined } {
  if (text.toLowerCase() === 'null') return 'null';
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(text);
  const scheme = m ? m[1]!.toLowerCase() : '';
  if (scheme === 'file') return 'null'; // Chrome sends file:// where Firefox sends null
  const rest = m ? m[2]! : text;
  const netloc = rest.startsWith('//') ? rest.slice(2).split(/[/?#]/, 1)[0]! : '';
  const hostport = netloc.slice(netloc.lastIndexOf('@') + 1);
  let host: string;
  let portText: string;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0 || !net.isIPv6(hostport.slice(1, close))) throw new Error(`Invalid IPv6 URL '${text}'`);
    host = hostport.slice(1, close);
    const after = hostport.slice(close + 1);
    portText = after.startsWith(':') ? after.slice(1) : '';
  } else {
    const colon = hostport.indexOf(':');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    portText = colon < 0 ? '' : hostport.slice(colon + 1);
  }
  let port: number | undefined;
  if (portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new Error(`Port could not be cast to integer value as '${portText}'`);
    port = Number(portText);
  } else {
    port = scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
  }
  if (host === '') throw new Error(`No host part in Origin '${text}'`);
  return { scheme, host: host.toLowerCase(), port };
}
