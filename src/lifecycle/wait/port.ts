// Waits until a published port accepts connections from the host. Docker's userland proxy
// accepts on the host side even when nothing listens inside and then drops the connection, so a
// connection only counts once it survives a short hold without being closed by the peer. The hold
// alone can be fooled on a busy machine (the proxy's own connect inside may take longer than the
// hold), so when the container's process runs on this host its listening sockets are read first
// from /proc: no daemon call, no traffic.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { pollUntil } from "../backoff.js";
import { NotReadyError, type WaitStrategy, type WaitTarget } from "./types.js";

const HOLD_MS = 75;
const CONNECT_TIMEOUT_MS = 2_000;

/** Connects once; answers whether the connection stayed open (or delivered data) through the hold. */
function probeTcp(host: string, port: number, signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const onAbort = () => finish("aborted");
    const finish = (failure: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(failure);
    };
    const timer = setTimeout(() => finish("connect timed out"), CONNECT_TIMEOUT_MS);
    socket.on("connect", () => {
      clearTimeout(timer);
      setTimeout(() => finish(undefined), HOLD_MS);
    });
    socket.on("data", () => finish(undefined));
    socket.on("end", () => finish("connection closed by the peer (nothing listening in the container?)"));
    socket.on("close", () => finish("connection closed"));
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The TCP ports listening in a `/proc/<pid>/net/tcp` or `tcp6` table (state 0A). */
export function parseListeningPorts(table: string): Set<number> {
  const ports = new Set<number>();
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (fields[3] !== "0A" || !local) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}

/**
 * The ports listening in the container's network namespace, read through its main process on this
 * host; undefined when that cannot be read or the pid is not the container's (a daemon in a VM or
 * on another host: its pids are not this host's, so the process must sit in the container's cgroup).
 */
export function listeningPorts(pid: number, containerId: string): Set<number> | undefined {
  try {
    if (!readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(containerId)) return undefined;
  } catch {
    return undefined;
  }
  const tables = ["tcp", "tcp6"].flatMap((name) => {
    try {
      return [readFileSync(`/proc/${pid}/net/${name}`, "utf8")];
    } catch {
      return [];
    }
  });
  if (tables.length === 0) return undefined;
  return new Set(tables.flatMap((table) => [...parseListeningPorts(table)]));
}

export function portWait(containerPort: number): WaitStrategy {
  let last: string | undefined;
  return {
    description: `port ${containerPort}`,
    lastProbe: () => last,
    async wait(target: WaitTarget, signal: AbortSignal) {
      const address = target.hostAddress(containerPort);
      if (!address) {
        throw new NotReadyError("invalid", `container port ${containerPort} is not published to the host`);
      }
      await pollUntil(
        async () => {
          // A timeout that falls during the first probe still says what was being tried.
          last ??= `${address.host}:${address.port}: no answer yet`;
          const inside = target.pid ? listeningPorts(target.pid, target.containerId) : undefined;
          if (inside && !inside.has(containerPort)) {
            last = `${address.host}:${address.port}: nothing listens on ${containerPort}/tcp in the container yet`;
            return false;
          }
          const failure = await probeTcp(address.host, address.port, signal);
          last = failure
            ? `${address.host}:${address.port}: ${failure}`
            : `${address.host}:${address.port}: open`;
          return failure === undefined;
        },
        { backoff: { initialMs: 50, factor: 1.5, maxMs: 1_000 }, signal },
      );
    },
  };
}
