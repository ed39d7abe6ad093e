// Waits until a published port accepts connections from the host. Docker's userland proxy
// accepts on the host side even when nothing listens inside and then drops the connection, so a
// connection only counts once it survives a short hold without being closed by the peer.
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
