/**
 * Lists of client networks ("10.0.0.0/8", "2001:db8::/32", or a single address) as the config
 * writes them: who may read a stats service, whose PROXY header or X-Forwarded-For is believed.
 * Matching is Node's `net.BlockList`, which also matches an IPv4-mapped IPv6 address
 * ("::ffff:10.1.2.3") against IPv4 networks.
 */
import net from 'node:net';

/** Why `text` is not a network ("address/prefix" or an address), or undefined if it is one. */
export function networkError(text: string): string | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = net.isIPv4(address) ? 4 : net.isIPv6(address) ? 6 : 0;
  if (family === 0) return `${JSON.stringify(text)} is not an IPv4 or IPv6 address or network (e.g. "10.0.0.0/8", "::1")`;
  if (slash < 0) return undefined;
  const prefix = text.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `${JSON.stringify(text)}: the prefix length must be 0-${max}`;
  return undefined;
}

export class NetworkList {
  private readonly list = new net.BlockList();

  /** Throws on an entry `networkError` refuses (the config schema refuses those first). */
  constructor(readonly networks: readonly string[]) {
    for (const n of networks) {
      const error = networkError(n);
      if (error !== undefined) throw new Error(error);
      const [address, prefix] = n.split('/') as [string, string | undefined];
      const type = net.isIPv4(address) ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  /** True when `address` (IPv4 or IPv6 text, as sockets report it) is in one of the networks. */
  contains(address: string | undefined): boolean {
    if (address === undefined) return false;
    const plain = address.split('%', 1)[0]!;
    if (net.isIPv4(plain)) return this.list.check(plain, 'ipv4');
    if (net.isIPv6(plain)) return this.list.check(plain, 'ipv6');
    return false;
  }
}
