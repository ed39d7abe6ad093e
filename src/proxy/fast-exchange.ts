// The fast lane's upstream connections (one per client connection, kept between clients in a small
// pool) and one request and its answer on them, as raw bytes. The answer goes to the client as it
// comes, except a small error answer that may be retried: that is held back until the status says
// whether it is relayed or retried.
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

/** One upstream connection, and the exchange its events go to now (none while it is idle). */
interface UpstreamConnection {
  readonly socket: Duplex;
  /** It carried a request before (the daemon may have closed it meanwhile). */
  used: boolean;
  owner: ExchangeEvents | undefined;
  idleTimer?: ReturnType<typeof setTimeout>;
}

/** Idle upstream connections kept for the lane's next client connection. */
const MAX_IDLE = 8;
/** An idle upstream connection nobody takes within this is closed. */
const IDLE_MS = 5_000;

/**
 * The lane's upstream connections that no client connection holds: a client that closes its
 * connection between requests leaves its upstream connection here, and the next client connection
 * takes it (newest first) instead of connecting again, as HAProxy reuses its server connections.
 * A connection's listeners are added once, when it opens, and hand each event to the exchange in
 * progress: adding and removing them per request was a tenth of the lane's own work.
 */
export class UpstreamPool {
  readonly #idle: UpstreamConnection[] = [];
  #closed = false;

  constructor(private readonly open: () => Duplex) {}

  /** An idle connection, else a new one. */
  checkout(): UpstreamConnection {
    for (let parked = this.#idle.pop(); parked; parked = this.#idle.pop()) {
      clearTimeout(parked.idleTimer);
      if (!parked.socket.destroyed) return parked;
    }
    const socket = this.open();
    const connection: UpstreamConnection = { socket, used: false, owner: undefined };
    socket.on("data", (chunk: Buffer) => {
      // Bytes nobody asked for: the connection is not reused.
      if (connection.owner) connection.owner.data(chunk);
      else socket.destroy();
    });
    // An idle connection the daemon drops must not crash the proxy; the next request reconnects.
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (connection.owner) connection.owner.error(error);
      else socket.destroy();
    });
    socket.once("close", () => {
      this.#forget(connection);
      const owner = connection.owner;
      connection.owner = undefined;
      owner?.close();
    });
    return connection;
  }

  /** Keeps `connection` for the next client, unless it is busy, broken, or the pool is full or closed. */
  park(connection: UpstreamConnection): void {
    const { socket } = connection;
    if (connection.owner || socket.destroyed || this.#closed || this.#idle.length >= MAX_IDLE) {
      connection.owner = undefined;
      socket.destroy();
      return;
    }
    connection.idleTimer = setTimeout(() => socket.destroy(), IDLE_MS);
    connection.idleTimer.unref?.();
    this.#idle.push(connection);
  }

  /** Closes the idle connections; later ones are closed when they are parked. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#idle.splice(0)) {
      clearTimeout(connection.idleTimer);
      connection.socket.destroy();
    }
  }

  #forget(connection: UpstreamConnection): void {
    const at = this.#idle.indexOf(connection);
    if (at >= 0) this.#idle.splice(at, 1);
    clearTimeout(connection.idleTimer);
  }
}

/** A client connection's upstream connection: taken from the pool on first use, again after it closes. */
export class UpstreamLink {
  #connection: UpstreamConnection | undefined;

  constructor(private readonly pool: UpstreamPool) {}

  /**
   * The socket for the next request, with `events` receiving its events until `release()`, and
   * whether it carried a request before (the daemon may have closed it meanwhile).
   */
  take(events: ExchangeEvents): { socket: Duplex; reused: boolean } {
    if (!this.#connection || this.#connection.socket.destroyed) this.#connection = this.pool.checkout();
    const connection = this.#connection;
    const reused = connection.used;
    connection.used = true;
    connection.owner = events;
    return { socket: connection.socket, reused };
  }

  /** The exchange in progress ended: later events find no one and end an idle connection. */
  release(): void {
    if (this.#connection) this.#connection.owner = undefined;
  }

  /** Closes the connection; the exchange in progress hears of it as the daemon's close. */
  drop(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    const owner = connection.owner;
    connection.owner = undefined;
    connection.socket.destroy();
    owner?.close();
  }

  /** The client connection is done with its upstream connection between requests: back to the pool. */
  park(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) this.pool.park(connection);
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
