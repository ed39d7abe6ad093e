// An HTTP relay on a unix socket in front of the local daemon that counts the lifecycle calls
// (create, start, stop, remove, ...) in flight at the daemon: the measuring point behind a TLS
// relay or an sshd, where berth's own figures cannot be seen. Upgraded requests (exec, attach)
// are spliced through uncounted.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classifyRequest } from "../../src/proxy/classify-request.js";

const DAEMON = "/var/run/docker.sock";

export interface CountingRelay {
  readonly socketPath: string;
  /** The most lifecycle calls in flight at once since the last reset, and how many there were. */
  lifecycle(): { maxInFlight: number; total: number };
  reset(): void;
  stop(): Promise<void>;
}

function isLifecycle(method: string, url: string): boolean {
  const classified = classifyRequest(method, url);
  return classified.ok && classified.request.class === "lifecycle";
}

export async function startCountingRelay(): Promise<CountingRelay> {
  const dir = mkdtempSync(join(tmpdir(), "berth-count-"));
  const socketPath = join(dir, "daemon.sock");
  let inFlight = 0;
  let maxInFlight = 0;
  let total = 0;
  const sockets = new Set<Socket>();
  const server = createServer({ requestTimeout: 0, keepAliveTimeout: 5_000 }, (req, res) => {
    const counted = isLifecycle(req.method ?? "GET", req.url ?? "/");
    if (counted) {
      total++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
    }
    let done = false;
    const finish = () => {
      if (counted && !done) inFlight--;
      done = true;
    };
    const upstream = request(
      { socketPath: DAEMON, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
        // A wait or an event stream answers its head long before its body; clients wait for it.
        res.flushHeaders();
        answer.pipe(res);
        answer.once("end", finish);
        answer.once("close", finish);
      },
    );
    upstream.once("error", (error) => {
      finish();
      res.destroy(error);
    });
    res.once("close", () => {
      finish();
      upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (req, client: Socket, head: Buffer) => {
    const daemon = connect({ path: DAEMON, allowHalfOpen: true });
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    daemon.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) daemon.write(head);
    daemon.pipe(client);
    client.pipe(daemon);
    daemon.once("error", () => client.destroy());
    client.once("error", () => daemon.destroy());
    client.once("close", () => daemon.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  return {
    socketPath,
    lifecycle: () => ({ maxInFlight, total }),
    reset: () => {
      maxInFlight = inFlight;
      total = 0;
    },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
