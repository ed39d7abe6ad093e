// Published ports (short `[IP:][HOST:]CONTAINER[/PROTO]`, ranges, and the long mapping form)
// and exposed ports. A missing or zero host port means a dynamic one chosen by the daemon.
import type { PortMapping } from "../../model/compose.js";
import { type FileContext, failAt, locationOf } from "./file-context.js";
import type { PathSegment } from "./path.js";

type Protocol = PortMapping["protocol"];
interface PortRange {
  start: number;
  end: number;
}

const HINT =
  'Write "CONTAINER", "HOST:CONTAINER", "IP:HOST:CONTAINER" or "IP::CONTAINER", optionally with /udp.';

function parseRange(text: string, what: string, fail: (why: string) => never, allowZero = false): PortRange {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!match) return fail(`${what} \`${text}\` is not a port number or range`);
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  for (const port of [start, end]) {
    if (port > 65535 || (port < 1 && !(allowZero && port === 0 && start === end))) {
      fail(`${what} ${port} is out of range 1-65535`);
    }
  }
  if (end < start) fail(`${what} range \`${text}\` ends before it starts`);
  return { start, end };
}

function parseProtocol(text: string, fail: (why: string) => never): Protocol {
  const protocol = text.toLowerCase();
  if (protocol !== "tcp" && protocol !== "udp") return fail(`protocol \`${text}\` is not tcp or udp`);
  return protocol;
}

/** Splits `IP:HOST:CONTAINER`, allowing a bracketed IPv6 address. */
function splitShort(text: string): string[] {
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (v6) return [v6[1]!, ...v6[2]!.split(":")];
  return text.split(":");
}

function expand(
  container: PortRange,
  host: PortRange | undefined,
  hostIp: string | undefined,
  protocol: Protocol,
  fail: (why: string) => never,
): Omit<PortMapping, "location">[] {
  const count = container.end - container.start + 1;
  if (host && host.end - host.start + 1 !== count) {
    if (count === 1)
      return fail("a host port range for one container port is not supported (berth needs one port)");
    fail("host and container port ranges have different lengths");
  }
  return Array.from({ length: count }, (_, i) => ({
    target: container.start + i,
    published: host && host.start !== 0 ? host.start + i : undefined,
    hostIp,
    protocol,
  }));
}

function parseShort(text: string, fail: (why: string) => never): Omit<PortMapping, "location">[] {
  const [spec = "", protocolText, ...extra] = text.trim().split("/");
  if (extra.length > 0) fail("more than one `/`");
  const protocol = protocolText === undefined ? "tcp" : parseProtocol(protocolText, fail);
  const parts = splitShort(spec);
  if (parts.length > 3) return fail("too many `:`");
  const containerText = parts[parts.length - 1]!;
  const hostText = parts.length >= 2 ? parts[parts.length - 2]! : "";
  const hostIp = parts.length === 3 ? parts[0] || undefined : undefined;
  if (hostIp !== undefined && !/^[0-9a-fA-F.:]+$/.test(hostIp))
    fail(`host IP \`${hostIp}\` is not an IP address`);
  const container = parseRange(containerText, "container port", fail);
  const host = hostText === "" ? undefined : parseRange(hostText, "host port", fail, true);
  return expand(container, host, hostIp, protocol, fail);
}

interface LongPort {
  target: number;
  published?: string | number;
  host_ip?: string;
  protocol?: string;
}

function parseLong(port: LongPort, fail: (why: string) => never): Omit<PortMapping, "location">[] {
  const container = parseRange(String(port.target), "container port", fail);
  const published =
    port.published === undefined || port.published === "" ? undefined : String(port.published);
  const host = published === undefined ? undefined : parseRange(published, "host port", fail, true);
  return expand(
    container,
    host,
    port.host_ip || undefined,
    parseProtocol(port.protocol ?? "tcp", fail),
    fail,
  );
}

/** Parses one `ports` entry into one mapping per port (ranges expand). */
export function parsePorts(
  context: FileContext,
  path: PathSegment[],
  entry: string | number | LongPort,
): PortMapping[] {
  const fail = (why: string): never =>
    failAt(context, path, `invalid port: ${why}`, {
      value: entry,
      hint: typeof entry === "object" ? undefined : HINT,
    });
  const mappings =
    typeof entry === "number"
      ? parseShort(String(entry), fail)
      : typeof entry === "string"
        ? parseShort(entry, fail)
        : parseLong(entry, fail);
  const location = locationOf(context, path);
  return mappings.map((mapping) => {
    const clean: PortMapping = { target: mapping.target, protocol: mapping.protocol, location };
    if (mapping.published !== undefined) clean.published = mapping.published;
    if (mapping.hostIp !== undefined) clean.hostIp = mapping.hostIp;
    return clean;
  });
}

/** Parses one `expose` entry (`3000`, `"3000/tcp"`, `"3000-3002"`) into container ports. */
export function parseExpose(context: FileContext, path: PathSegment[], entry: string | number): number[] {
  const fail = (why: string): never =>
    failAt(context, path, `invalid exposed port: ${why}`, { value: entry });
  const [portText = "", protocolText, ...extra] = String(entry).trim().split("/");
  if (extra.length > 0) fail("more than one `/`");
  if (protocolText !== undefined) parseProtocol(protocolText, fail);
  const range = parseRange(portText, "port", fail);
  return Array.from({ length: range.end - range.start + 1 }, (_, i) => range.start + i);
}

/** The key Compose merges ports by: {host IP, published, target, protocol}. */
export function portKey(port: PortMapping): string {
  return `${port.hostIp ?? ""}|${port.published ?? ""}|${port.target}|${port.protocol}`;
}
