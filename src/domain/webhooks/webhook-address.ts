/**
 * Where a webhook may be sent (SSRF protection, on GitLab's model): only to public addresses, unless
 * the admin setting `webhooks_allow_local_network` lets loopback and private addresses through too.
 * Some addresses are refused even then: link-local (169.254.0.0/16, fe80::/10 — the cloud metadata
 * services live there: 169.254.169.254), the known metadata addresses outside it (AWS's fd00:ec2::254,
 * Alibaba's 100.100.100.200), unspecified, multicast and reserved ones. Everything else that is not a
 * public unicast address (CGNAT 100.64.0.0/10, documentation and benchmarking ranges, IPv6 outside
 * 2000::/3, 6to4, Teredo…) is refused as well: the setting lifts private and loopback only.
 *
 * The check is made on the addresses a host name resolves to, when the delivery connects
 * (webhookLookup: resolve once, check every address, connect only to those — DNS rebinding cannot
 * swap them), and on an IP address written in the URL when the webhook is saved (webhookUrlRefusal).
 * IPv4-mapped and NAT64 IPv6 addresses (::ffff:10.0.0.1, 64:ff9b::a00:1) are judged by their IPv4.
 * The ranges are Node's net.BlockList (no CIDR arithmetic of our own).
 */
import net from 'node:net';
import dns from 'node:dns';

/** How an address is treated: public (sent), local (sent only with the setting), refused (never). */
type AddressClass = { kind: 'public' } | { kind: 'local' | 'refused'; label: string };

type Range = [address: string, prefix: number, label: string];

function blockList(ranges: Range[], type: 'ipv4' | 'ipv6'): { list: net.BlockList; label: (ip: string) => string | null } {
  const lists = ranges.map(([address, prefix, label]) => {
    const list = new net.BlockList();
    list.addSubnet(address, prefix, type);
    return { list, label };
  });
  const all = new net.BlockList();
  for (const [address, prefix] of ranges) all.addSubnet(address, prefix, type);
  return { list: all, label: (ip) => (all.check(ip, type) ? lists.find((l) => l.list.check(ip, type))!.label : null) };
}

// IANA's IPv4 and IPv6 Special-Purpose Address Registries, by how a webhook treats them. The first
// list that holds an address decides (the metadata addresses come before the ranges holding them).
const NEVER_V4 = blockList([
  ['169.254.0.0', 16, 'link-local (cloud metadata)'], ['100.100.100.200', 32, 'cloud metadata'],
  ['0.0.0.0', 8, 'unspecified'], ['224.0.0.0', 4, 'multicast'], ['240.0.0.0', 4, 'reserved or broadcast'],
], 'ipv4');
const LOCAL_V4 = blockList([
  ['127.0.0.0', 8, 'loopback'], ['10.0.0.0', 8, 'private'], ['172.16.0.0', 12, 'private'], ['192.168.0.0', 16, 'private'],
], 'ipv4');
const OTHER_V4 = blockList([
  ['100.64.0.0', 10, 'shared (CGNAT)'], ['192.0.0.0', 24, 'IETF protocol'], ['192.0.2.0', 24, 'documentation'], ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'], ['198.18.0.0', 15, 'benchmarking'], ['192.88.99.0', 24, '6to4 relay'],
], 'ipv4');
const NEVER_V6 = blockList([
  ['fd00:ec2::254', 128, 'cloud metadata'], ['fe80::', 10, 'link-local'], ['::', 128, 'unspecified'], ['ff00::', 8, 'multicast'],
], 'ipv6');
const LOCAL_V6 = blockList([['::1', 128, 'loopback'], ['fc00::', 7, 'private (unique local)']], 'ipv6');
const OTHER_V6 = blockList([
  ['2001::', 23, 'IETF protocol (Teredo, benchmarking…)'], ['2001:db8::', 32, 'documentation'], ['2002::', 16, '6to4'], ['3fff::', 20, 'documentation'],
], 'ipv6');
/** Global unicast: IPv6 outside it is not a public address. */
const GLOBAL_V6 = blockList([['2000::', 3, 'global']], 'ipv6');
/** IPv6 forms that carry an IPv4 address in their last 32 bits: IPv4-mapped and NAT64 (RFC 6052). */
const EMBEDDED_V4 = blockList([['::ffff:0:0', 96, 'IPv4-mapped'], ['64:ff9b::', 96, 'NAT64']], 'ipv6');

/** The IPv4 address in the last 32 bits of an IPv6 address. */
function lastIpv4(ip: string): string {
  // SocketAddress writes it in its canonical form: a dotted tail, or compressed hex groups.
  const groups = new net.SocketAddress({ address: ip, family: 'ipv6' }).address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (dotted) return dotted[1];
  const parts = groups.split(':');
  const [hi, lo] = parts.slice(-2).map((p) => parseInt(p || '0', 16));
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

function classify(ip: string): AddressClass {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net.isIP(bare);
  if (family === 4) {
    for (const [kind, l] of [['refused', NEVER_V4], ['local', LOCAL_V4], ['refused', OTHER_V4]] as const) {
      const label = l.label(bare);
      if (label) return { kind, label };
    }
    return { kind: 'public' };
  }
  if (family !== 6) return { kind: 'refused', label: 'unrecognised' };
  if (EMBEDDED_V4.list.check(bare, 'ipv6')) return classify(lastIpv4(bare));
  for (const [kind, l] of [['refused', NEVER_V6], ['local', LOCAL_V6], ['refused', OTHER_V6]] as const) {
    const label = l.label(bare);
    if (label) return { kind, label };
  }
  return GLOBAL_V6.list.check(bare, 'ipv6') ? { kind: 'public' } : { kind: 'refused', label: 'reserved' };
}

const SETTING = 'Admin → Settings, “Allow webhooks to the local network”';

/** Why `ip` is refused, in two parts ("a loopback address", the rule); null when a webhook may go there. */
function refusalParts(ip: string, allowLocal: boolean): { what: string; rule: string } | null {
  const c = classify(ip);
  if (c.kind === 'public' || (c.kind === 'local' && allowLocal)) return null;
  return { what: `a ${c.label} address`, rule: c.kind === 'local' ? `webhooks to the local network are off (${SETTING})` : 'webhooks are never sent there' };
}

/**
 * Why a webhook may not be sent to the IP address `ip` (null: it may), as the delivery log and the
 * form say it. `allowLocal`: the setting webhooks_allow_local_network.
 */
export function webhookAddressRefusal(ip: string, allowLocal: boolean): string | null {
  const r = refusalParts(ip, allowLocal);
  return r && `${ip} is ${r.what}: ${r.rule}`;
}

/** Names that always mean this machine (RFC 6761), refused at once without asking DNS. */
function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/**
 * The form's check of a payload URL: an IP address written in it (or `localhost`) that the webhook may
 * not reach. Other host names are checked when each delivery connects (they may resolve differently
 * then). Null when fine or when the URL does not parse (the URL's own rule reports that).
 */
export function webhookUrlRefusal(url: string, allowLocal: boolean): string | null {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
  if (isLocalhostName(host)) return allowLocal ? null : `${host} is this machine: webhooks to the local network are off (${SETTING})`;
  return net.isIP(host) ? webhookAddressRefusal(host, allowLocal) : null;
}

/** What a host name resolves to (dns.lookup with every address, in the resolver's order). */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: HostResolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** The error of a delivery refused before connecting (code WEBHOOK_ADDRESS_REFUSED): permanent. */
export class WebhookAddressRefused extends Error {
  readonly code = 'WEBHOOK_ADDRESS_REFUSED';
}

/**
 * A `lookup` for http.request / https.request: resolves the host once, checks EVERY address it gets
 * (one refused address refuses the delivery: a rebinding name mixes them), and hands the socket only
 * those checked addresses — the connection cannot go anywhere else. A refusal is WebhookAddressRefused.
 */
export function webhookLookup(allowLocal: boolean, resolve: HostResolver = systemResolver): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: any[]) => void) => {
    resolve(hostname).then((found) => checkedAddresses(hostname, found, options.family, allowLocal)).then(
      // Called outside the promise: an exception in the socket's callback must not come back here as a rejection.
      (ok) => process.nextTick(() => (options.all ? callback(null, ok) : callback(null, ok[0].address, ok[0].family))),
      (err) => process.nextTick(() => callback(err)),
    );
  }) as net.LookupFunction;
}

function checkedAddresses(hostname: string, found: { address: string; family: number }[], family: unknown, allowLocal: boolean): { address: string; family: number }[] {
  for (const a of found) {
    const r = refusalParts(a.address, allowLocal);
    if (r) throw new WebhookAddressRefused(`${hostname} resolves to ${a.address}, ${r.what}: ${r.rule}`);
  }
  const wanted = family === 4 || family === 6 ? found.filter((a) => a.family === family) : found;
  if (!wanted.length) throw Object.assign(new Error(`${hostname}: no address found`), { code: 'ENOTFOUND' });
  return wanted;
}
