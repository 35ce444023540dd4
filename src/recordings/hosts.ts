/**
 * Which hosts the fetcher may download from (VMS_RECORDINGS_HOSTS). A receipt is outside input:
 * its record_file must never make the daemon reach an internal address (a metadata service,
 * PostgreSQL, the admin port). Two checks:
 * - before connecting, the URL's host must be on the list (`*.example.com` matches sub-domains
 *   only, anything else exactly);
 * - a host matched only by a wildcard must also resolve to public addresses (a DNS name under an
 *   allowed domain pointing at 10.0.0.1 is refused at connect time). A host listed exactly (e.g.
 *   127.0.0.1 in tests, an internal mirror) is trusted with whatever it resolves to.
 * Redirects are never followed (undici's request does not), so a 3xx cannot lead elsewhere.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

export class HostNotAllowedError extends Error {
  override name = "HostNotAllowedError";
}

export interface HostPolicy {
  /** "exact", "wildcard", or undefined when the host is not allowed. */
  match(host: string): "exact" | "wildcard" | undefined;
  /** A dns lookup for undici's connector that refuses non-public addresses of wildcard hosts. */
  lookup: LookupFunction;
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["224.0.0.0", 3],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 127],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv6");
}

export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) {
    return !PRIVATE.check(mapped[1] as string, "ipv4");
  }
  const family = isIP(address);
  return family !== 0 && !PRIVATE.check(address, family === 6 ? "ipv6" : "ipv4");
}

/** URL host names as the list is written: lower case, IPv6 without brackets. */
function normalise(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
}

export function createHostPolicy(allowed: readonly string[]): HostPolicy {
  const exact = new Set(allowed.filter((h) => !h.startsWith("*.")).map(normalise));
  const suffixes = allowed.filter((h) => h.startsWith("*.")).map((h) => normalise(h.slice(1)));
  const match = (raw: string) => {
    const host = normalise(raw);
    if (exact.has(host)) {
      return "exact" as const;
    }
    return isIP(host) === 0 && suffixes.some((s) => host.endsWith(s) && host.length > s.length)
      ? ("wildcard" as const)
      : undefined;
  };
  const lookup: LookupFunction = (hostname, options, callback) => {
    const kind = match(hostname);
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, "", 0);
        return;
      }
      const usable =
        kind === "exact" ? addresses : addresses.filter((a) => isPublicAddress(a.address));
      if (kind === undefined || usable.length === 0) {
        callback(new HostNotAllowedError(`host ${hostname} resolves to no allowed address`), "", 0);
        return;
      }
      if (options.all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      } else {
        const first = usable[0] as LookupAddress;
        callback(null, first.address, first.family);
      }
    });
  };
  return { match, lookup };
}
