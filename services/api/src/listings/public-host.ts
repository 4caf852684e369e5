import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { KumoError } from '@kumo/shared';

/** Resolves a host name to its addresses (tests replace it: there is no DNS here). */
export type HostLookup = (host: string) => Promise<string[]>;

export const dnsLookup: HostLookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Addresses a submitter must not make the API fetch from: loopback, private, link-local (the metadata
 * server lives at 169.254.169.254), carrier-grade NAT, unique-local, multicast and reserved ranges.
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
] as const) INTERNAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) INTERNAL.addSubnet(net, bits, 'ipv6');

function internal(address: string): boolean {
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
 * it. Best effort: the fetch resolves the name again, so a name that changes its answer in between
 * (DNS rebinding) is not caught. KUMO_LISTING_ALLOW_PRIVATE_HOSTS=1 turns the check off (a mirror on
 * the team's own network).
 */
export async function assertPublicHost(uri: string, url: URL, lookupHost: HostLookup): Promise<void> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await lookupHost(host);
    } catch (err) {
      throw new KumoError('LISTING_UNREADABLE', `source.listing '${uri}': the host ${host} could not be resolved`, { retryable: true, cause: err });
    }
  }
  const bad = addresses.find(internal);
  if (addresses.length === 0 || bad !== undefined) {
    throw new KumoError('LISTING_NOT_ALLOWED', `source.listing '${uri}': ${host} is an internal address${bad && bad !== host ? ` (${bad})` : ''}; listings are read from public hosts only`);
  }
}
