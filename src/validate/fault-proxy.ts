// A real fault in front of the Docker socket: a unix-socket relay that, per connection, passes
// the bytes through, resets the connection before the request reaches the daemon, or forwards the
// request and resets the connection once the daemon has answered (the client never learns that
// its create went through), or answers a 409 conflict itself. The guard's retries and berth's own
// recoveries are validated against this, not against a mock.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { DockerEndpoint } from "../engine/docker-host.js";
import { createTransport } from "../engine/transport.js";

type FaultAction = "pass" | "reset" | "reset-after-response" | "conflict";

/**
 * What the relay answers for a `conflict`, without asking the daemon: the daemon's own 409 for
 * a resource another holds (a network with endpoints, a container being removed). It is not a
 * transient fault, so the guard does not retry it: the caller's own recovery is what is tested.
 */
function conflictResponse(requestLine: string): Buffer {
  const body = JSON.stringify({
    message: `berth fault relay: conflict injected for ${requestLine.split(" ").slice(0, 2).join(" ")}`,
  });
  return Buffer.from(
    `HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    "latin1",
  );
}

interface FaultDecision {
  /** Connections seen so far, this one included. */
  connection: number;
  /** The request line of the first request on the connection: `POST /v1.41/containers/create?name=x HTTP/1.1`. */
  requestLine: string;
}

interface FaultProxy {
  /** DOCKER_HOST for clients that should see the faults. */
  readonly dockerHost: string;
  readonly stats: {
    connections: number;
    resets: number;
    resetsAfterResponse: number;
    conflicts: number;
    passed: number;
  };
  close(): Promise<void>;
}

/** A raw connection to the daemon, as the engine makes one (TLS and ssh included). */
function upstreamSocket(endpoint: DockerEndpoint): Duplex {
  return createTransport(endpoint).connect();
}

/**
 * Asks the daemon to close the connection after its answer, so every request of a keep-alive
 * client comes on a new connection and meets the relay's decision (only a request head that
 * arrived whole is changed).
 */
export function closeAfterResponse(head: Buffer): Buffer {
  const text = head.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return head;
  const lines = text
    .slice(0, end)
    .split("\r\n")
    .filter((line) => !/^connection:/i.test(line));
  return Buffer.concat([
    Buffer.from(`${lines.join("\r\n")}\r\nConnection: close\r\n\r\n`, "latin1"),
    head.subarray(end + 4),
  ]);
}

/**
 * Ends a connection abruptly. On a unix socket there is no RST, but closing before any response
 * is what a client sees as a reset too: Node's HTTP client fails with ECONNRESET ("socket hang up").
 */
function cut(socket: Socket): void {
  socket.destroy();
}

/** A relay's listening server, tracking its sockets so close ends them all. */
interface RelayServer {
  /** Sockets to end on close: the server adds its clients; handlers add their upstream sockets. */
  readonly open: Set<Duplex>;
  close(): Promise<void>;
}

/** A server on a fresh unix socket in a temp directory. */
interface TempSocketServer extends RelayServer {
  readonly path: string;
}

/** A server on a loopback TCP port (relays in front of registries, which the daemon reaches by TCP). */
interface LoopbackServer extends RelayServer {
  readonly port: number;
}

async function serveRelay(
  listen: (server: Server) => void,
  onClient: (client: Socket, open: Set<Duplex>) => void,
  cleanup: () => void = () => {},
): Promise<RelayServer> {
  const open = new Set<Duplex>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    client.on("error", () => {});
    onClient(client, open);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve());
    listen(server);
  });
  return {
    open,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      cleanup();
    },
  };
}

export async function serveTempSocket(
  prefix: string,
  onClient: (client: Socket, open: Set<Duplex>) => void,
): Promise<TempSocketServer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, "docker.sock");
  const relay = await serveRelay(
    (server) => server.listen(path),
    onClient,
    () => rmSync(dir, { recursive: true, force: true }),
  );
  return { ...relay, path };
}

/** Listens on 127.0.0.1:`port` (0: any free port). */
export async function serveLoopbackPort(
  port: number,
  onClient: (client: Socket, open: Set<Duplex>) => void,
): Promise<LoopbackServer> {
  let bound = port;
  const relay = await serveRelay((server) => {
    server.once("listening", () => {
      bound = (server.address() as { port: number }).port;
    });
    server.listen(port, "127.0.0.1");
  }, onClient);
  return { ...relay, port: bound };
}

export async function startFaultProxy(
  upstream: DockerEndpoint,
  decide: (decision: FaultDecision) => FaultAction,
): Promise<FaultProxy> {
  const stats = { connections: 0, resets: 0, resetsAfterResponse: 0, conflicts: 0, passed: 0 };
  const server = await serveTempSocket("berth-fault-", (client, open) => {
    client.once("data", (head: Buffer) => {
      stats.connections += 1;
      const requestLine = head.toString("latin1").split("\r\n", 1)[0] ?? "";
      const action = decide({ connection: stats.connections, requestLine });
      if (action === "reset") {
        stats.resets += 1;
        cut(client);
        return;
      }
      if (action === "conflict") {
        stats.conflicts += 1;
        client.end(conflictResponse(requestLine));
        return;
      }
      const daemon = upstreamSocket(upstream);
      open.add(daemon);
      daemon.on("close", () => {
        open.delete(daemon);
        client.destroy();
      });
      daemon.on("error", () => client.destroy());
      client.on("close", () => daemon.destroy());
      daemon.write(closeAfterResponse(head));
      client.pipe(daemon);
      if (action === "reset-after-response") {
        // The daemon has done the work once it answers; the client sees only a reset.
        daemon.once("data", () => {
          stats.resetsAfterResponse += 1;
          cut(client);
          daemon.destroy();
        });
      } else {
        stats.passed += 1;
        daemon.pipe(client);
      }
    });
  });
  return { dockerHost: `unix://${server.path}`, stats, close: () => server.close() };
}
