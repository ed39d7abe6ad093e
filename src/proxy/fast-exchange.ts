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

/** What the exchange in progress does with its upstream connection's events. */
interface ExchangeEvents {
  data(chunk: Buffer): void;
  error(error: NodeJS.ErrnoException): void;
  close(): void;
}

/**
 * A client connection's one upstream connection: opened on first use, again after the daemon drops
 * it. Its listeners are added once, when it opens, and hand each event to the exchange in progress:
 * adding and removing three listeners per request was a tenth of the lane's own work.
 */
export class UpstreamLink {
  #socket: Duplex | undefined;
  #used = false;
  #current: ExchangeEvents | undefined;

  constructor(private readonly open: () => Duplex) {}

  /**
   * The socket for the next request, with `events` receiving its events until `release()`, and
   * whether it carried a request before (the daemon may have closed it meanwhile).
   */
  take(events: ExchangeEvents): { socket: Duplex; reused: boolean } {
    if (!this.#socket || this.#socket.destroyed) {
      const opened = this.open();
      opened.on("data", (chunk: Buffer) => {
        // Bytes nobody asked for: the connection is not reused.
        if (this.#socket === opened && this.#current) this.#current.data(chunk);
        else opened.destroy();
      });
      // An idle connection the daemon drops must not crash the proxy; the next request reconnects.
      opened.on("error", (error: NodeJS.ErrnoException) => {
        if (this.#socket === opened && this.#current) this.#current.error(error);
        else opened.destroy();
      });
      opened.once("close", () => {
        if (this.#socket !== opened) return;
        this.#socket = undefined;
        this.#current?.close();
      });
      this.#socket = opened;
      this.#used = false;
    }
    const reused = this.#used;
    this.#used = true;
    this.#current = events;
    return { socket: this.#socket, reused };
  }

  /** The exchange in progress ended: later events find no one and end an idle connection. */
  release(): void {
    this.#current = undefined;
  }

  drop(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    // The exchange in progress hears of it as the daemon's close.
    this.#current?.close();
  }
}

/**
 * Sends `bytes` upstream and relays the answer to `client`; resolves with what came back. A client
 * that leaves (`gone`) drops the link, which ends the exchange as "client-left".
 */
export function exchange(
  link: UpstreamLink,
  client: Duplex,
  bytes: Buffer,
  noBody: boolean,
  gone: AbortSignal,
): Promise<Exchange> {
  const reader = new ResponseReader(noBody);
  return new Promise<Exchange>((resolve) => {
    // Bytes held back until the status is known, and kept for a possible retry of a small error.
    let held: Buffer[] | undefined = [];
    let wrote = false;
    let settled = false;
    let paused = false;
    const settle = (result: Exchange) => {
      if (settled) return;
      settled = true;
      link.release();
      if (paused) {
        client.off("drain", onDrain);
        socket.resume();
      }
      resolve(gone.aborted ? { kind: "client-left" } : result);
    };
    const forward = (part: Buffer) => {
      wrote = true;
      if (!client.write(part) && !paused) {
        paused = true;
        socket.pause();
        client.once("drain", onDrain);
      }
    };
    const onDrain = () => {
      paused = false;
      socket.resume();
    };
    const failed = (code: string | undefined, message: string): Exchange => ({
      kind: "failed",
      code,
      reusedSocket,
      message,
      partial: wrote,
      status: reader.status,
    });
    const events: ExchangeEvents = {
      data: (chunk) => {
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
      },
      error: (error) => {
        if (!reader.endsAtClose) settle(failed(error.code, error.message));
      },
      close: () => {
        settle(
          reader.endsAtClose
            ? { kind: "answered", reader }
            : failed("ECONNRESET", "the daemon closed the connection"),
        );
      },
    };
    const { socket, reused: reusedSocket } = link.take(events);
    socket.write(bytes);
  });
}
