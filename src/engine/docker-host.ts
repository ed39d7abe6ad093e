// Where the daemon is: DOCKER_HOST (unix://, tcp://, ssh://; npipe is not supported on Linux) with
// TLS through DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the docker CLI reads them.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "./errors.js";

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** `ssh://[user@]host[:port]`: reached through `ssh … docker system dial-stdio`. */
export interface SshEndpoint {
  kind: "ssh";
  url: string;
  host: string;
  user?: string;
  port?: number;
  /** An ssh configuration file for `ssh -F` (BERTH_SSH_CONFIG): keys, known hosts, options. */
  configFile?: string;
}

export type DockerEndpoint =
  | { kind: "unix"; url: string; socketPath: string }
  | SshEndpoint
  | {
      kind: "tcp";
      url: string;
      host: string;
      port: number;
      protocol: "http" | "https";
      tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean };
    };

export type DockerEnv = Record<string, string | undefined>;

/** Parses DOCKER_HOST and the TLS variables. Pure except for reading certificate files. */
export function resolveDockerEndpoint(
  env: DockerEnv = process.env,
  readFile: (path: string) => Buffer = readFileSync,
): DockerEndpoint {
  const raw = env.DOCKER_HOST?.trim() || DEFAULT_DOCKER_HOST;
  if (raw.startsWith("unix://")) {
    const socketPath = raw.slice("unix://".length);
    if (!socketPath.startsWith("/")) {
      throw new ConfigError(`DOCKER_HOST=${raw} must name an absolute socket path (unix:///path)`, {
        resource: "DOCKER_HOST",
      });
    }
    return { kind: "unix", url: raw, socketPath };
  }
  if (raw.startsWith("/")) return { kind: "unix", url: `unix://${raw}`, socketPath: raw };
  if (raw.startsWith("ssh://")) {
    const endpoint = parseSshHost(raw);
    return env.BERTH_SSH_CONFIG ? { ...endpoint, configFile: env.BERTH_SSH_CONFIG } : endpoint;
  }
  const match = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(raw);
  if (!match) {
    throw new ConfigError(
      `DOCKER_HOST=${raw} is not a unix://, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT] address`,
      {
        resource: "DOCKER_HOST",
        hint: "Examples: unix:///var/run/docker.sock, tcp://127.0.0.1:2375, ssh://user@host",
      },
    );
  }
  const scheme = match[1]!;
  const host = match[2]!.replace(/^\[|\]$/g, "");
  const verifyFlag = env.DOCKER_TLS_VERIFY;
  const verify = verifyFlag !== undefined && verifyFlag !== "" && verifyFlag !== "0";
  const useTls = scheme === "https" || verify;
  const port = match[3] ? Number(match[3]) : useTls ? 2376 : 2375;
  if (!useTls) return { kind: "tcp", url: raw, host, port, protocol: "http" };
  const certDir = env.DOCKER_CERT_PATH || join(homedir(), ".docker");
  const read = (name: string): Buffer | undefined => {
    try {
      return readFile(join(certDir, name));
    } catch {
      return undefined;
    }
  };
  return {
    kind: "tcp",
    url: raw,
    host,
    port,
    protocol: "https",
    tls: { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem"), verify },
  };
}

/** `ssh://[user@]host[:port]`; a path, query or password is refused as the docker CLI does. */
export function parseSshHost(raw: string): SshEndpoint {
  const match = /^ssh:\/\/(?:([^@:/\s]+)@)?(\[[^\]]+\]|[^:/@\s]+)(?::(\d{1,5}))?\/?$/.exec(raw);
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (!match || (port !== undefined && (port < 1 || port > 65535))) {
    throw new ConfigError(`DOCKER_HOST=${raw} is not an ssh://[USER@]HOST[:PORT] address`, {
      resource: "DOCKER_HOST",
      hint: "Example: ssh://deploy@build-host:2222 (no path, no password: use an ssh key or agent)",
    });
  }
  return {
    kind: "ssh",
    url: raw,
    host: match[2]!.replace(/^\[|\]$/g, ""),
    ...(match[1] ? { user: match[1] } : {}),
    ...(port !== undefined ? { port } : {}),
  };
}
