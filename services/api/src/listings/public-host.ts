import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { KumoError } from '@kumo/shared';

/** Resolves a host name to its addresses (tests replace it: there is no DNS here). */
export type HostLookup = (host: string) => Promise<string[]>;

export const dnsLookup: HostLookup = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Addresses a submitter must not make the API fetch from: loopback, private, link-local (the metadata
 * server lives at 169.254.169.254), carrier-grade NAT, unique-local, multicast and reserved ranges; and
 * the IPv6 ranges that carry an IPv4 address inside them, whichever it is (IPv4-compatible ::/96, NAT64
 * 64:ff9b::/96 and its local-use 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32): a gateway on the
 * way would turn them into the private IPv4 address they embed. (IPv4-mapped ::ffff:0:0/96 is judged as
 * the IPv4 address it maps.)
 */
const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  INTERNAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2001::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  INTERNAL.addSubnet(net, bits, 'ipv6');

export function internal(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return INTERNAL.check(address, 'ipv4');
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 one.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return INTERNAL.check(mapped[1]!, 'ipv4');
  return family === 6 ? INTERNAL.check(address, 'ipv6') : true;
}

/**
 * Refuses (LISTING_NOT_ALLOWED) an https:// listing, or a hop of its redirects, whose host is or
 * resolves to an internal address: a submitter must not reach the control plane's own network through
 * it. Returns the address checked, which the fetch must connect to: resolving the name again could get
 * another answer (DNS rebinding). KUMO_LISTING_ALLOW_PRIVATE_HOSTS=1 turns the check off (a mirror on
 * the team's own network).
 */
export async function assertPublicHost(uri: string, url: URL, lookupHost: HostLookup): Promise<string> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await lookupHost(host);
    } catch (err) {
      throw new KumoError('LISTING_UNREADABLE', `source.listing '${uri}': the host ${host} could not be resolved`, {
        retryable: true,
        cause: err,
      });
    }
  }
  const bad = addresses.find(internal);
  if (addresses.length === 0 || bad !== undefined) {
    throw new KumoError(
      'LISTING_NOT_ALLOWED',
      `source.listing '${uri}': ${host} is an internal address${bad && bad !== host ? ` (${bad})` : ''}; listings are read from public hosts only`,
    );
  }
  return addresses[0]!;
}
