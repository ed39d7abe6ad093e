// Binding the proxy's listener: a unix socket private to the user (mode 0600 from the start,
// never taking over one another process still answers on), or a TCP port.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { connect, type Server as NetServer, type Socket } from "node:net";
import { dirname } from "node:path";
import { ConfigError } from "../engine/errors.js";
import { dockerHostFor, type ListenAddress } from "./listen-address.js";

export class ProxyStartError extends ConfigError {
  override readonly code = "BERTH_PROXY_START";
}

/** Refuses to take over a socket another process still answers on; clears a stale one. */
async function claimSocketPath(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const probe: Socket = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) {
    throw new ProxyStartError(`Something already listens on ${path}`, {
      resource: path,
      hint: "Stop the other proxy, or choose another path with --listen unix:///PATH.",
    });
  }
  unlinkSync(path);
}

function listen(server: NetServer, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (address.kind === "unix") server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  });
}

/** Creates the unix socket with mode 0600 from the start (umask), then makes sure of it. */
async function listenPrivately(server: NetServer, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await claimSocketPath(path);
  let previous: number | undefined;
  try {
    previous = process.umask(0o177);
  } catch {
    // Worker threads cannot change the umask; the chmod below still applies.
  }
  try {
    await listen(server, { kind: "unix", path });
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
  chmodSync(path, 0o600);
}

/** Listens on `address`; answers where it listens (the port the system picked for port 0). */
export async function bind(listener: NetServer, address: ListenAddress): Promise<ListenAddress> {
  try {
    if (address.kind === "unix") await listenPrivately(listener, address.path);
    else await listen(listener, address);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const where = dockerHostFor(address);
    throw new ProxyStartError(`Cannot listen on ${where}: ${(error as Error).message}`, {
      resource: where,
      cause: error,
    });
  }
  const bound = listener.address();
  return address.kind === "tcp" && bound && typeof bound === "object"
    ? { ...address, port: bound.port }
    : address;
}
