// Where the proxy listens: a unix socket (default: in a per-user runtime directory) or a TCP port
// on loopback. Parsing is pure; a non-loopback address needs an explicit `allowRemote`.
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../engine/errors.js";

export type ListenAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export class ListenAddressError extends ConfigError {
  override readonly code = "BERTH_PROXY_LISTEN";
}

/** `$XDG_RUNTIME_DIR/berth`, else `/tmp/berth-<uid>`: private to the user (mode 0700). */
export function runtimeDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg?.startsWith("/")) return join(xdg, "berth");
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return join(tmpdir(), `berth-${uid}`);
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || host === "0:0:0:0:0:0:0:1";
}

/** Parses `unix:///PATH` or `tcp://HOST:PORT` (port 0 picks a free one). */
export function parseListenAddress(raw: string, options: { allowRemote?: boolean } = {}): ListenAddress {
  const value = raw.trim();
  if (value.startsWith("unix://")) {
    const path = value.slice("unix://".length);
    if (!path.startsWith("/")) {
      throw new ListenAddressError(`--listen ${raw}: a unix socket needs an absolute path (unix:///PATH)`, {
        resource: raw,
      });
    }
    return { kind: "unix", path };
  }
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(value);
  if (!match) {
    throw new ListenAddressError(`--listen ${raw} is not unix:///PATH or tcp://HOST:PORT`, {
      resource: raw,
      hint: "Examples: unix:///run/user/1000/berth/proxy.sock, tcp://127.0.0.1:2399",
    });
  }
  const host = match[1]!.replace(/^\[|\]$/g, "");
  const port = Number(match[2]);
  if (port > 65535) {
    throw new ListenAddressError(`--listen ${raw}: port ${port} is above 65535`, { resource: raw });
  }
  if (!isLoopback(host) && !options.allowRemote) {
    throw new ListenAddressError(
      `--listen ${raw}: ${host} is not a loopback address; anyone who reaches it controls the Docker daemon`,
      { resource: raw, hint: "Listen on 127.0.0.1 or a unix socket, or pass --allow-remote if you mean it." },
    );
  }
  return { kind: "tcp", host, port };
}

/** The DOCKER_HOST value clients use to reach a listening address. */
export function dockerHostFor(address: ListenAddress): string {
  if (address.kind === "unix") return `unix://${address.path}`;
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `tcp://${host}:${address.port}`;
}
