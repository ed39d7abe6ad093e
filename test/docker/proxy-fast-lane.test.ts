// The proxy's fast lane (body-less reads relayed as raw bytes) against the real daemon: requests
// in and out of the lane on one keep-alive connection, pipelined requests, and an unreachable
// daemon, each with the metrics the full path would count.
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startTestProxy, type TestProxy } from "./proxy-support.js";

let proxy: TestProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

/** One raw connection: send bytes, read complete responses (Content-Length or chunked) in order. */
function rawConnection(socketPath: string) {
  const socket: Socket = connect({ path: socketPath });
  let buffer = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    wake?.();
  });
  const more = () =>
    new Promise<void>((resolve, reject) => {
      wake = resolve;
      socket.once("close", () => reject(new Error("connection closed")));
    });
  async function response(): Promise<{ status: number; body: string }> {
    for (;;) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = buffer.toString("latin1", 0, end);
        const status = Number(head.slice(9, 12));
        const length = /content-length: (\d+)/i.exec(head)?.[1];
        if (length !== undefined && buffer.length >= end + 4 + Number(length)) {
          const body = buffer.toString("utf8", end + 4, end + 4 + Number(length));
          buffer = buffer.subarray(end + 4 + Number(length));
          return { status, body };
        }
        if (/transfer-encoding: chunked/i.test(head)) {
          const last = buffer.indexOf("\r\n0\r\n\r\n", end);
          if (last >= 0) {
            const body = buffer.toString("utf8", end + 4, last);
            buffer = buffer.subarray(last + 7);
            return { status, body };
          }
        }
      }
      await more();
    }
  }
  return { socket, send: (text: string) => socket.write(text), response };
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: docker\r\n\r\n`;

describe("the proxy's fast lane", () => {
  it("serves reads, then hands the connection to the full path for a body, in order", async () => {
    proxy = await startTestProxy();
    const c = rawConnection(proxy.socketPath);
    c.send(get("/_ping"));
    expect(await c.response()).toEqual({ status: 200, body: "OK" });
    c.send(get("/v1.41/containers/json?limit=1"));
    expect((await c.response()).status).toBe(200);
    // A body: the full path takes over the connection, and the daemon refuses the bad spec.
    c.send(
      "POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    );
    expect((await c.response()).status).toBe(400);
    c.send(get("/_ping"));
    expect(await c.response()).toEqual({ status: 200, body: "OK" });
    c.socket.destroy();
    const m = proxy.proxy.metrics();
    expect(m.requests.total).toBe(4);
    expect(m.requests.byStatus).toMatchObject({ "2xx": 3, "4xx": 1 });
  });

  it("answers pipelined requests in order", async () => {
    proxy = await startTestProxy();
    const c = rawConnection(proxy.socketPath);
    c.send(get("/_ping") + get("/v1.41/version") + get("/v1.41/nope-not-an-endpoint") + get("/_ping"));
    expect(await c.response()).toEqual({ status: 200, body: "OK" });
    expect(JSON.parse((await c.response()).body)).toHaveProperty("ApiVersion");
    // The proxy's own 404 comes from the full path, which took over at that request.
    expect((await c.response()).status).toBe(404);
    expect(await c.response()).toEqual({ status: 200, body: "OK" });
    c.socket.destroy();
  });

  it("holds its reads to the read limit, counts them, and denies a repeated read each time", async () => {
    proxy = await startTestProxy({
      limiter: { mode: "fixed", maxConcurrent: 1, minIntervalMs: 0, readConcurrency: 1 },
      policy: {
        source: "test policy",
        denyPrivileged: false,
        denyHostNamespaces: [],
        denyEndpoints: ["info"],
        allowedBindPaths: undefined,
      },
    });
    // Four connections with five pipelined reads each: twenty reads wanting to run at once.
    const connections = Array.from({ length: 4 }, () => rawConnection(proxy!.socketPath));
    for (const c of connections) c.send(get("/_ping").repeat(5));
    for (const c of connections)
      for (let i = 0; i < 5; i++) expect(await c.response()).toEqual({ status: 200, body: "OK" });
    let m = proxy.proxy.metrics();
    expect(m.requests.byClass.read).toBe(20);
    expect(m.latency.read.count).toBe(20);
    expect(m.queuedTime.read.count).toBe(20);
    expect(m.maxInFlight.read).toBe(1);
    expect(m.limiter).toMatchObject({ reads: { limit: 1, inFlight: 0, queued: 0 } });
    // The lane remembers its decision per request line; a denied read is refused every time, on
    // every connection, and counted.
    for (const c of connections) {
      c.send(get("/v1.41/info"));
      const denied = await c.response();
      expect(denied.status).toBe(403);
      expect(JSON.parse(denied.body).message).toMatch(/policy denies the info endpoints/);
      c.socket.destroy();
    }
    m = proxy.proxy.metrics();
    expect(m.denials.byRule.endpoint).toBe(4);
  });

  it("hands a closed client's daemon connection to the next client, and recovers when the daemon drops it", async () => {
    // A relay in front of the daemon that counts the connections it is asked for.
    const dir = mkdtempSync(join(tmpdir(), "berth-lane-relay-"));
    const relaySocket = join(dir, "relay.sock");
    const opened = new Set<Socket>();
    let accepted = 0;
    const relay = createServer((c) => {
      accepted++;
      opened.add(c);
      const d = connect({ path: "/var/run/docker.sock" });
      c.pipe(d).pipe(c);
      const end = () => {
        opened.delete(c);
        c.destroy();
        d.destroy();
      };
      c.on("error", end).on("close", end);
      d.on("error", end).on("close", end);
    });
    await new Promise<void>((resolve) => relay.listen(relaySocket, resolve));
    try {
      proxy = await startTestProxy({ upstream: `unix://${relaySocket}` });
      for (let i = 0; i < 3; i++) {
        const c = rawConnection(proxy.socketPath);
        c.send(get("/_ping"));
        expect(await c.response()).toEqual({ status: 200, body: "OK" });
        c.socket.destroy();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(accepted).toBe(1);
      // The daemon's side closes the idle connection: the next client still gets its answer.
      for (const c of opened) c.destroy();
      await new Promise((r) => setTimeout(r, 20));
      const c = rawConnection(proxy.socketPath);
      c.send(get("/_ping"));
      expect(await c.response()).toEqual({ status: 200, body: "OK" });
      c.socket.destroy();
      expect(accepted).toBe(2);
      expect(proxy.proxy.metrics().requests.upstreamFailures).toBe(0);
    } finally {
      await proxy?.stop();
      proxy = undefined;
      await new Promise((resolve) => relay.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers 502 with the daemon's address when the daemon cannot be reached", async () => {
    proxy = await startTestProxy({ upstream: "unix:///tmp/berth-no-daemon-here.sock" });
    const c = rawConnection(proxy.socketPath);
    c.send(get("/_ping"));
    const answer = await c.response();
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body).message).toMatch(
      /cannot reach the Docker daemon at unix:\/\/\/tmp\/berth-no-daemon-here\.sock/,
    );
    // The connection stays usable.
    c.send(get("/_ping"));
    expect((await c.response()).status).toBe(502);
    c.socket.destroy();
    expect(proxy.proxy.metrics().requests.upstreamFailures).toBe(2);
  });
});
