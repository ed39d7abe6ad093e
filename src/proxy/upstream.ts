// The daemon side of the proxy: the engine's transport (transport.ts), so the proxy reaches every
// endpoint the engine does (unix, TCP, TLS, ssh) with pooled keep-alive connections for ordinary
// requests and raw connections for upgraded ones (attach, exec, BuildKit sessions).
import type { DockerEndpoint } from "../engine/docker-host.js";
import { createTransport, type Transport } from "../engine/transport.js";

export type Upstream = Transport;

export function createUpstream(endpoint: DockerEndpoint): Upstream {
  return createTransport(endpoint);
}
