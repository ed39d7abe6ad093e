// One request and its answer on the fast lane's upstream connection, as raw bytes. The answer goes
// to the client as it comes, except a small error answer that may be retried: that is held back
// until the status says whether it is relayed or retried.
import type { Duplex } from "node:stream";
import { ResponseReader } from "./raw-http.js";
import { mayBeTransient } from "./retry-rules.js";

/** Error answers are small JSON; a larger one is relayed without being read for a retry. */
const MAX_ERROR_BODY = 64 * 1024;

export type Exchange =
  | { kind: "answered"; reader: ResponseReader; buffered?: Buffer[] }
  | {
      kind: "failed";
      code: string | undefined;
      reusedSocket: boolean;
      message: string;
      /** Part of the answer already went to the client: it cannot be repeated. */
      partial: boolean;
      status: number;
    }
  | { kind: "client-left" };

/** A client connection's one upstream connection: opened on first use, again after the daemon drops it. */
export class UpstreamLink {
  #socket: Duplex | undefined;
  #used = false;

  constructor(private readonly open: () => Duplex) {}

  /** The socket for the next request, and whether it carried one before (the daemon may have closed it). */
  take(): { socket: Duplex; reused: boolean } {
    if (!this.#socket || this.#socket.destroyed) {
      const opened = this.open();
      // An idle connection the daemon drops must not crash the proxy; the next request reconnects.
      opened.on("error", () => opened.destroy());
      opened.once("close", () => {
        if (this.#socket === opened) this.#socket = undefined;
      });
      this.#socket = opened;
      this.#used = false;
    }
    const reused = this.#used;
    this.#used = true;
    return { socket: this.#socket, reused };
  }

  drop(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

/** Sends `bytes` upstream and relays the answer to `client`; resolves with what came back. */
export function exchange(
  link: UpstreamLink,
  client: Duplex,
  bytes: Buffer,
  noBody: boolean,
  gone: AbortSignal,
): Promise<Exchange> {
  const { socket, reused: reusedSocket } = link.take();
  const reader = new ResponseReader(noBody);
  return new Promise<Exchange>((resolve) => {
    // Bytes held back until the status is known, and kept for a possible retry of a small error.
    let held: Buffer[] | undefined = [];
    let wrote = false;
    const settle = (result: Exchange) => {
      socket.off("data", onUpstreamData);
      socket.off("error", onError);
      socket.off("close", onUpstreamClose);
      gone.removeEventListener("abort", onGone);
      client.off("drain", onDrain);
      socket.resume();
      resolve(result);
    };
    const forward = (part: Buffer) => {
      wrote = true;
      if (!client.write(part)) {
        socket.pause();
        client.once("drain", onDrain);
      }
    };
    const onDrain = () => socket.resume();
    const failed = (code: string | undefined, message: string): Exchange => ({
      kind: "failed",
      code,
      reusedSocket,
      message,
      partial: wrote,
      status: reader.status,
    });
    const onUpstreamData = (chunk: Buffer) => {
      let used: number;
      try {
        used = reader.feed(chunk);
      } catch (error) {
        socket.destroy();
        settle(failed("EPROTO", (error as Error).message));
        return;
      }
      const part = used === chunk.length ? chunk : chunk.subarray(0, used);
      if (held) {
        held.push(part);
        if (reader.headReceived) {
          const declared = reader.declaredLength ?? Number.POSITIVE_INFINITY;
          if (!(mayBeTransient(reader.status) && declared <= MAX_ERROR_BODY)) {
            forward(held.length === 1 ? held[0]! : Buffer.concat(held));
            held = undefined;
          }
        }
      } else {
        forward(part);
      }
      // Bytes after the response that nobody asked for: the connection is not reused.
      if (used < chunk.length) socket.destroy();
      if (reader.done) settle({ kind: "answered", reader, ...(held ? { buffered: held } : {}) });
    };
    const onError = (error: NodeJS.ErrnoException) => {
      if (!reader.endsAtClose) settle(failed(error.code, error.message));
    };
    const onUpstreamClose = () => {
      settle(
        reader.endsAtClose
          ? { kind: "answered", reader }
          : failed("ECONNRESET", "the daemon closed the connection"),
      );
    };
    const onGone = () => settle({ kind: "client-left" });
    socket.on("data", onUpstreamData);
    socket.on("error", onError);
    socket.on("close", onUpstreamClose);
    gone.addEventListener("abort", onGone, { once: true });
    socket.write(bytes);
  });
}
