// The proxy at the HTTP level: berth's own client through it, the metrics endpoint, upgrades,
// bad requests that must get clean answers without hurting the proxy, and shutdown.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestProject } from "vitest/node";
import { Engine } from "../../src/engine/engine.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { proxyGlobalSetup } from "../../src/testing/proxy-setup.js";
import { follow, http, startTestProxy, type TestProxy } from "./proxy-support.js";
import { fixtureImage, testLabels, trappingCommand, uniqueName, waitForLine } from "./support.js";

let t: TestProxy;

/** Writes raw bytes to the proxy and answers everything it sends back until it closes. */
function rawExchange(socketPath: string, bytes: string | Buffer, endAfterWrite = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    let answer = "";
    socket.on("data", (c: Buffer) => {
      answer += c.toString("latin1");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // The proxy may close while a huge body is still being written; the answer came first.
      if (error.code === "EPIPE" || error.code === "ECONNRESET") resolve(answer);
      else reject(error);
    });
    socket.on("close", () => resolve(answer));
    socket.write(bytes);
    if (endAfterWrite) socket.end();
  });
}

/**
 * Opens `GET /containers/{id}/attach/ws` through the proxy with a WebSocket handshake; answers the
 * handshake's status and the raw bytes received within `ms` (server frames are unmasked, so the
 * container's output appears in them as text).
 */
function attachWebSocket(
  socketPath: string,
  id: string,
  ms: number,
): Promise<{ status: number; bytes: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath,
      path: `/v1.41/containers/${id}/attach/ws?stream=1&stdout=1&logs=1`,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        "Sec-WebSocket-Version": "13",
        Origin: "http://127.0.0.1",
      },
    });
    req.on("upgrade", (res, socket, head) => {
      let bytes = head.toString("latin1");
      socket.on("data", (chunk: Buffer) => {
        bytes += chunk.toString("latin1");
      });
      setTimeout(() => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, bytes });
      }, ms);
    });
    req.on("response", (res) => resolve({ status: res.statusCode ?? 0, bytes: "" }));
    req.on("error", reject);
    req.end();
  });
}

async function stillHealthy(): Promise<void> {
  const ping = await http(t.socketPath, "GET", "/_ping");
  expect(ping).toMatchObject({ status: 200, body: "OK" });
}

beforeAll(async () => {
  t = await startTestProxy();
});

afterAll(async () => {
  await t?.stop();
});

describe("berth's own client through the proxy", () => {
  it("relays a WebSocket attach (/containers/{id}/attach/ws) in both directions' framing", async () => {
    const client = new Engine({ dockerHost: t.proxy.dockerHost });
    const { id } = await client.createContainer({
      name: uniqueName("proxy-ws"),
      Image: fixtureImage(),
      Cmd: ["sh", "-c", "trap 'exit 0' TERM; echo berth-ready; while true; do echo ws-tick; sleep 0.2; done"],
      Labels: testLabels(),
      HostConfig: { NetworkMode: "none" },
    });
    try {
      await client.startContainer(id);
      await waitForLine(id);
      const attached = await attachWebSocket(t.socketPath, id, 1_500);
      expect(attached.status).toBe(101);
      expect(attached.bytes).toContain("berth-ready");
      expect(attached.bytes).toContain("ws-tick");
    } finally {
      expect((await safeRemove(client, id)).outcome).toBe("exited");
    }
    await stillHealthy();
  });

  it("creates, starts, execs in and safely removes a container", async () => {
    const client = new Engine({ dockerHost: t.proxy.dockerHost });
    expect(await client.ping()).toBe("OK");
    const { id } = await client.createContainer({
      name: uniqueName("proxy-engine"),
      Image: fixtureImage(),
      Cmd: trappingCommand(),
      Labels: testLabels(),
      HostConfig: { NetworkMode: "none" },
    });
    try {
      await client.startContainer(id);
      await waitForLine(id);
      const exec = await client.exec(id, ["sh", "-c", "echo via-proxy"]);
      expect(exec).toMatchObject({ exitCode: 0, stdout: "via-proxy\n" });
    } finally {
      const record = await safeRemove(client, id);
      expect(record.outcome).toBe("exited");
    }
    const m = t.proxy.metrics();
    expect(m.requests.byClass.lifecycle).toBeGreaterThanOrEqual(4);
    expect(m.latency.lifecycle.count).toBeGreaterThanOrEqual(4);
    expect(m.inFlight).toEqual({ read: 0, lifecycle: 0, stream: 0 });
  });

  it("relays HEAD, versioned and unversioned paths, and 404s verbatim", async () => {
    const head = await http(t.socketPath, "HEAD", "/_ping");
    expect(head.status).toBe(200);
    expect(head.headers["api-version"]).toBe("1.41");
    expect((await http(t.socketPath, "GET", "/v1.41/version")).status).toBe(200);
    const missing = await http(t.socketPath, "GET", "/containers/berth-no-such-container/json");
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).message).toMatch(/No such container/);
  });

  it("follows the event stream until the client leaves", async () => {
    const events = follow(
      "curl",
      ["-sN", "--unix-socket", t.socketPath, "http://docker/v1.41/events"],
      process.env,
    );
    await expect.poll(() => t.proxy.metrics().inFlight.stream, { timeout: 5_000 }).toBe(1);
    await events.stop();
    await expect.poll(() => t.proxy.metrics().inFlight.stream, { timeout: 5_000 }).toBe(0);
  });

  it("splices an h2c upgrade (BuildKit's session endpoint) through to the daemon", async () => {
    const answer = await rawExchange(
      t.socketPath,
      "POST /session HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n" +
        `X-Docker-Expose-Session-Uuid: ${uniqueName("session")}\r\nX-Docker-Expose-Session-Name: berth\r\n` +
        "X-Docker-Expose-Session-Sharedkey: berth\r\nContent-Length: 0\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    expect(answer).toMatch(/upgrade: h2c/i);
  });
});

describe("metrics endpoint", () => {
  it("answers JSON by default and Prometheus text on request", async () => {
    const json = await http(t.socketPath, "GET", "/_berth/metrics");
    expect(json.headers["content-type"]).toBe("application/json");
    const snapshot = JSON.parse(json.body);
    expect(snapshot).toHaveProperty("inFlight");
    expect(snapshot).toHaveProperty("latency.read.p50Ms");
    expect(snapshot).toHaveProperty("bytes.toClients");
    const text = await http(t.socketPath, "GET", "/_berth/metrics", { headers: { Accept: "text/plain" } });
    expect(text.headers["content-type"]).toMatch(/^text\/plain/);
    expect(text.body).toMatch(/^# HELP berth_proxy_in_flight/m);
    expect(text.body).toMatch(/^berth_proxy_requests_total\{class="read"\} \d+$/m);
  });
});

describe("bad requests get clean answers and leave the proxy running", () => {
  it("answers malformed HTTP with 400", async () => {
    const answer = await rawExchange(t.socketPath, "THIS IS NOT HTTP\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"message":"berth proxy: malformed HTTP request');
    await stillHealthy();
  });

  it("answers oversized headers with 431", async () => {
    const answer = await rawExchange(
      t.socketPath,
      `GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    await stillHealthy();
  });

  it("answers paths outside the Engine API with a JSON 404 and never forwards them", async () => {
    const outside = await http(t.socketPath, "GET", "/etc/passwd");
    expect(outside.status).toBe(404);
    expect(JSON.parse(outside.body).message).toMatch(/not a Docker Engine API endpoint/);
    const traversal = await http(t.socketPath, "GET", "/v1.41/containers/..%2F..%2Fetc/json");
    expect(traversal.status).toBe(400);
    await stillHealthy();
  });

  it("refuses a huge spec body with 413, declared or chunked", async () => {
    const declared = await rawExchange(
      t.socketPath,
      "POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{",
      false,
    );
    expect(declared).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared).toContain("larger than");
    const chunked = await http(t.socketPath, "POST", "/v1.41/containers/create", {
      headers: { "Content-Type": "application/json", "Transfer-Encoding": "chunked" },
      body: Buffer.alloc(9 * 1024 * 1024, 0x20),
    }).catch((error: NodeJS.ErrnoException) => ({
      status: error.code === "EPIPE" ? 413 : 0,
      body: "",
      headers: {},
    }));
    expect(chunked.status).toBe(413);
    await stillHealthy();
  });

  it("answers a spec that is not JSON with 400 itself, never the daemon's 500", async () => {
    const r = await http(t.socketPath, "POST", "/v1.41/containers/create", {
      headers: { "Content-Type": "application/json" },
      body: "{not json",
    });
    // Engine 20.10 answers 500 for undecodable JSON, which the limiter would count as a failure.
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).message).toMatch(
      /berth proxy: the container.create request body is not valid JSON/,
    );
    expect(t.proxy.metrics().denials.badRequests).toBeGreaterThanOrEqual(4);
    await stillHealthy();
  });
});

describe("shutdown", () => {
  it("stops accepting, cuts open streams after the drain bound and removes its socket", async () => {
    const own = await startTestProxy({ drainTimeoutMs: 500 });
    const events = follow(
      "curl",
      ["-sN", "--unix-socket", own.socketPath, "http://docker/v1.41/events"],
      process.env,
    );
    await expect.poll(() => own.proxy.metrics().inFlight.stream, { timeout: 5_000 }).toBe(1);
    const t0 = performance.now();
    await own.proxy.close();
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(existsSync(own.socketPath)).toBe(false);
    await events.stop();
    await own.stop();
  });
});

describe("proxyGlobalSetup", () => {
  it("starts one proxy, provides and exports its DOCKER_HOST, and restores everything at teardown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-proxy-setup-"));
    const provided: Record<string, unknown> = {};
    const project = {
      provide: (key: string, value: unknown) => (provided[key] = value),
    } as unknown as TestProject;
    const before = process.env.DOCKER_HOST;
    try {
      const teardown = await proxyGlobalSetup({ listen: `unix://${join(dir, "p.sock")}` })(project);
      const dockerHost = `unix://${join(dir, "p.sock")}`;
      expect(provided.berthProxy).toMatchObject({ dockerHost });
      expect(process.env.DOCKER_HOST).toBe(dockerHost);
      expect(await new Engine({ dockerHost }).ping()).toBe("OK");
      await teardown();
      expect(process.env.DOCKER_HOST).toBe(before);
      expect(existsSync(join(dir, "p.sock"))).toBe(false);
    } finally {
      if (before === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = before;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
