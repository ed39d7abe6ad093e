// Where a started service can be reached from the host, per container port, and the forms a
// caller wants it in: a table, JSON, or environment variables (`REDIS_6379=127.0.0.1:49153`).
import { BerthError } from "../engine/errors.js";
import { endpointEnvName } from "./naming.js";

export interface Endpoint {
  service: string;
  containerPort: number;
  protocol: "tcp" | "udp";
  host: string;
  port: number;
  /** `host:port`, ready for a client's connection string. */
  address: string;
}

export class UnknownEndpointError extends BerthError {
  override readonly code = "BERTH_UNKNOWN_ENDPOINT";
}

type PortMap = Record<string, { HostIp?: string; HostPort?: string }[] | null> | undefined;

/** A host address a client on this host can connect to (`0.0.0.0` means any, so loopback). */
function connectableHost(hostIp: string | undefined): string {
  if (!hostIp || hostIp === "0.0.0.0") return "127.0.0.1";
  if (hostIp === "::") return "::1";
  return hostIp;
}

/** Reads published ports from an inspect's `NetworkSettings.Ports`; the first binding per port wins. */
export function endpointsFromPorts(service: string, ports: PortMap): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    const binding = bindings?.find((b) => b.HostPort);
    if (!binding) continue;
    const [port, protocol] = key.split("/");
    const host = connectableHost(binding.HostIp);
    const hostPort = Number(binding.HostPort);
    endpoints.push({
      service,
      containerPort: Number(port),
      protocol: protocol === "udp" ? "udp" : "tcp",
      host,
      port: hostPort,
      address: host.includes(":") ? `[${host}]:${hostPort}` : `${host}:${hostPort}`,
    });
  }
  return endpoints.sort((a, b) => a.containerPort - b.containerPort);
}

export function findEndpoint(
  endpoints: Endpoint[],
  service: string,
  containerPort: number,
  protocol: "tcp" | "udp" = "tcp",
): Endpoint {
  const found = endpoints.find(
    (e) => e.service === service && e.containerPort === containerPort && e.protocol === protocol,
  );
  if (found) return found;
  const known = endpoints.map((e) => `${e.service}:${e.containerPort}${e.protocol === "udp" ? "/udp" : ""}`);
  throw new UnknownEndpointError(`No published port ${containerPort}/${protocol} for service ${service}`, {
    resource: `${service}:${containerPort}`,
    hint: known.length > 0 ? `Published: ${known.join(", ")}` : "No service publishes a port.",
  });
}

export function endpointEnv(endpoints: Endpoint[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of endpoints) env[endpointEnvName(e.service, e.containerPort, e.protocol)] = e.address;
  return env;
}

/** `KEY=value` lines, shell-safe for the values berth produces. */
export function formatEnvLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}
