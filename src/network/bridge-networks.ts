/**
 * The HTTP bridge's `require_ip` networks as Crossbar.io reads them (Python's `ip_network`): an
 * address, "address/prefix", or "address/netmask" ("192.168.1.1/255.255.255.0"), turned into the
 * CIDR text `NetworkList` takes. Host bits below the prefix are cleared: Python's strict
 * `ip_network` would refuse "192.168.1.1/24" (crossbar-examples' rest configs have one), which
 * only stops Crossbar.io's service at start; the network meant is plain.
 */
import net from 'node:net';
import { NetworkList } from './networks.js';

/** "255.255.255.0" → 24; undefined when the mask's ones are not contiguous. */
function maskPrefix(mask: string): number | undefined {
  const bits = mask.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  const m = /^(1*)0*$/.exec(bits);
  return m ? m[1]!.length : undefined;
}

/** Why `text` is no network, or undefined. */
export function bridgeNetworkError(text: string): string | undefined {
  const c = toCidr(text);
  return typeof c === 'string' ? undefined : c.error;
}

/** CIDR text ("192.168.1.0/24", "::1/128") or why not. */
export function toCidr(text: string): string | { error: string } {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = net.isIPv4(address) ? 4 : net.isIPv6(address) ? 6 : 0;
  if (family === 0) return { error: `${JSON.stringify(text)} is not an IPv4 or IPv6 address or network (e.g. "10.0.0.0/8", "::1")` };
  const max = family === 4 ? 32 : 128;
  if (slash < 0) return `${address}/${max}`;
  const suffix = text.slice(slash + 1);
  let prefix: number | undefined;
  if (/^\d{1,3}$/.test(suffix)) prefix = Number(suffix);
  else if (family === 4 && net.isIPv4(suffix)) prefix = maskPrefix(suffix);
  if (prefix === undefined || prefix > max) return { error: `${JSON.stringify(text)}: expected a prefix length 0-${max}${family === 4 ? ' or a netmask' : ''}` };
  return `${family === 4 ? maskV4(address, prefix) : address}/${prefix}`;
}

function maskV4(address: string, prefix: number): string {
  const n = address.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const kept = prefix === 0 ? 0 : Math.floor(n / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
  return [24, 16, 8, 0].map((s) => Math.floor(kept / 2 ** s) % 256).join('.');
}

/** The list; throws on an entry `bridgeNetworkError` refuses (the schema refuses those first). */
export function bridgeNetworkList(networks: readonly string[]): NetworkList {
  return new NetworkList(networks.map((n) => {
    const c = toCidr(n);
    if (typeof c !== 'string') throw new Error(c.error);
    return c;
  }));
}
