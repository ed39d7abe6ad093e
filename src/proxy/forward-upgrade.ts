// Relays an upgraded request (`Upgrade: tcp` for attach and exec start, `h2c` for BuildKit
// sessions): the request head goes to the daemon as it came, then bytes are spliced both ways,
// half-closes included, so stdin EOF reaches the container and output reaches the terminal.
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Permit } from "../guard/limiter.js";
import type { ClassifiedRequest } from "./classify-request.js";
import type { ForwardResult } from "./forward-http.js";
import { sendRawError } from "./http-messages.js";
import type { ProxyContext } from "./proxy-context.js";

function requestHead(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${head}\r\n`;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

export async function forwardUpgrade(
  ctx: ProxyContext,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  classified: ClassifiedRequest,
): Promise<ForwardResult> {
  const cls = classified.class;
  const clientGone = new AbortController();
  const onEarlyClose = () => clientGone.abort();
  client.once("close", onEarlyClose);
  client.on("error", () => client.destroy());
  let permit: Permit;
  try {
    permit = await ctx.limiter.acquire(cls, clientGone.signal, classified.operation);
  } catch {
    ctx.metrics.clientAborted();
    return {
      status: 499,
      queuedMs: 0,
      latencyMs: undefined,
      attempts: 1,
      bytesIn: 0,
      bytesOut: 0,
      note: "client left",
    };
  }
  client.off("close", onEarlyClose);
  ctx.metrics.dispatched(cls, permit.queuedMs);
  const t0 = performance.now();
  const counted = { bytesIn: head.length, bytesOut: 0 };
  let status = 0;
  let headAt: number | undefined;

  const daemon = ctx.upstream.connect();
  (daemon as Partial<Socket>).setNoDelay?.(true);
  const done = new Promise<"ok" | "failed">((resolve) => {
    let connected = false;
    let closed = 0;
    const closeOne = () => {
      if (++closed === 2) resolve(connected && status !== 0 ? "ok" : "failed");
    };
    daemon.once("connect", () => {
      connected = true;
    });
    daemon.once("secureConnect", () => {
      connected = true;
    });
    daemon.on("data", (chunk: Buffer) => {
      if (status === 0) {
        headAt = performance.now() - t0;
        status = Number(STATUS_LINE.exec(chunk.subarray(0, 16).toString("latin1"))?.[1] ?? 502);
        // Counted now, not at the end: an upgraded connection may last as long as a session.
        ctx.metrics.status(status);
      }
      counted.bytesOut += chunk.length;
    });
    client.on("data", (chunk: Buffer) => {
      counted.bytesIn += chunk.length;
    });
    daemon.once("error", (error: NodeJS.ErrnoException) => {
      if (!connected) {
        ctx.metrics.upstreamFailed();
        sendRawError(
          client,
          502,
          `berth proxy: cannot reach the Docker daemon at ${ctx.upstream.endpoint.url} (${ctx.upstream.endpoint.source}: ${error.code ?? error.message})`,
        );
        status = 502;
        ctx.metrics.status(status);
      } else {
        client.destroy();
      }
    });
    client.once("error", () => daemon.destroy());
    // When either side goes away for good, the other cannot be served any more.
    daemon.once("close", () => {
      if (!client.writableEnded) client.destroy();
      closeOne();
    });
    client.once("close", () => {
      daemon.destroy();
      closeOne();
    });
  });
  daemon.write(requestHead(req));
  if (head.length > 0) daemon.write(head);
  client.pipe(daemon);
  daemon.pipe(client);

  const result = await done;
  const latencyMs = headAt;
  if (status === 0) ctx.metrics.status(502);
  // Upgraded connections are streams: their length says nothing about the daemon's load.
  permit.release({
    latencyMs: latencyMs ?? performance.now() - t0,
    outcome: result === "ok" ? "dropped" : "error",
    operation: classified.operation,
  });
  ctx.metrics.finished(cls, latencyMs);
  return {
    status: status || 502,
    queuedMs: permit.queuedMs,
    latencyMs,
    attempts: 1,
    ...counted,
  };
}
