// The daemon side of the proxy: pooled keep-alive HTTP connections for ordinary requests, and raw
// sockets for upgraded ones (attach, exec, BuildKit sessions), over unix, TCP or TLS.
import { Agent as HttpAgent, type RequestOptions } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type DockerEndpoint, describeEndpoint } from "../engine/docker-host.js";
import { ConfigError } from "../engine/errors.js";

export interface Upstream {
  endpoint: DockerEndpoint;
  /** Options that address the daemon, to merge into `http.request` options. */
  requestOptions(): RequestOptions;
  /** Opens a raw connection for an upgraded request. */
  connect(): Socket;
  close(): void;
}

export function createUpstream(endpoint: DockerEndpoint): Upstream {
  // Keep-alive: connection setup would otherwise dominate cheap calls like `/_ping`.
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxFreeSockets: 64,
    scheduling: "lifo" as const,
  };
  if (endpoint.kind === "unix") {
    const agent = new HttpAgent(agentOptions);
    return {
      endpoint,
      requestOptions: () => ({ agent, socketPath: endpoint.socketPath }),
      connect: () => netConnect({ path: endpoint.socketPath, allowHalfOpen: true }),
      close: () => agent.destroy(),
    };
  }
  if (endpoint.kind === "ssh") {
    throw new ConfigError(`${describeEndpoint(endpoint)}: the proxy cannot reach ssh:// endpoints yet`, {
      resource: endpoint.url,
    });
  }
  if (endpoint.protocol === "http") {
    const agent = new HttpAgent(agentOptions);
    return {
      endpoint,
      requestOptions: () => ({ agent, host: endpoint.host, port: endpoint.port }),
      connect: () =>
        netConnect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true, noDelay: true }),
      close: () => agent.destroy(),
    };
  }
  const tls = {
    ca: endpoint.tls?.ca,
    cert: endpoint.tls?.cert,
    key: endpoint.tls?.key,
    rejectUnauthorized: endpoint.tls?.verify ?? true,
  };
  const agent = new HttpsAgent({ ...agentOptions, ...tls });
  return {
    endpoint,
    requestOptions: () => ({ agent, host: endpoint.host, port: endpoint.port }),
    // TLS has no half-close: stdin EOF on attach is delivered as the connection's end.
    connect: () =>
      tlsConnect({ host: endpoint.host, port: endpoint.port, servername: endpoint.host, ...tls }),
    close: () => agent.destroy(),
  };
}
