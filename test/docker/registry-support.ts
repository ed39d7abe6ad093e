// A real registry for the pull tests: Debian's docker-registry (distribution 2.8) on a free
// loopback port with an htpasswd user (bcrypt) and its storage in a temp dir, and a fault relay
// in front of it that sees every request the daemon makes (one per connection), counts manifest
// fetches, and on chosen requests answers 429/503 itself, resets the connection in the middle of
// a layer, or holds a request until the test lets it go. Images get into it the way users push:
// through the Engine API with an X-Registry-Auth header.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveDockerEndpoint } from "../../src/engine/docker-host.js";
import { encodeRegistryAuth } from "../../src/images/credentials.js";
import { createUpstream } from "../../src/proxy/upstream.js";
import { closeAfterResponse, serveLoopbackPort, serveTempSocket } from "../../src/validate/fault-proxy.js";
import { engine, fixtureImage, testLabels } from "./support.js";

export const REGISTRY_USER = "berth-tester";

export interface TestRegistry {
  /** 127.0.0.1:PORT of the registry itself. */
  host: string;
  password: string;
  dir: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = await serveLoopbackPort(0, (client) => client.destroy());
  await server.close();
  return server.port;
}

async function answers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.status === 401 || response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`registry at ${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startRegistry(): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "berth-registry-"));
  const password = `pw-${randomBytes(12).toString("hex")}`;
  const port = await freePort();
  const htpasswd = execFileSync("htpasswd", ["-Bbn", REGISTRY_USER, password], { encoding: "utf8" });
  writeFileSync(join(dir, "htpasswd"), htpasswd);
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log: { level: warn, accesslog: { disabled: true } }",
      `storage: { filesystem: { rootdirectory: ${join(dir, "data")} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      `auth: { htpasswd: { realm: berth-test, path: ${join(dir, "htpasswd")} } }`,
      "",
    ].join("\n"),
  );
  const log = openSync(join(dir, "registry.log"), "a");
  const child = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", log, log] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await answers(`http://127.0.0.1:${port}/v2/`, 15_000);
  return {
    host: `127.0.0.1:${port}`,
    password,
    dir,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type RelayAction =
  | { kind: "pass" }
  /** Answer this status without asking the registry (429 with Retry-After, 503). */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Forward, then reset the connection once this many bytes of the response body went through. */
  | { kind: "reset-mid-body"; afterBytes: number }
  /** Forward only once `until` resolves. */
  | { kind: "hold"; until: Promise<void> };

export interface RegistryRequest {
  method: string;
  path: string;
  kind: "manifest" | "blob" | "other";
  action: RelayAction["kind"];
}

export interface RegistryRelay {
  /** 127.0.0.1:PORT: the registry as the daemon sees it through the relay. */
  host: string;
  requests: RegistryRequest[];
  /** Requests for a manifest by tag (what each pull of a tag fetches once): HEAD or GET. */
  manifestFetches(repository: string, tag: string): number;
  /** The next requests' fate; the default passes everything. */
  decide: (request: { method: string; path: string; kind: RegistryRequest["kind"] }) => RelayAction;
  close(): Promise<void>;
}

function kindOf(path: string): RegistryRequest["kind"] {
  if (/^\/v2\/.+\/manifests\//.test(path)) return "manifest";
  if (/^\/v2\/.+\/blobs\/sha256:/.test(path)) return "blob";
  return "other";
}

function answer(status: number, headers: Record<string, string> = {}, body = ""): Buffer {
  const lines = [
    `HTTP/1.1 ${status} Relay`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return Buffer.from(`${lines.join("\r\n")}\r\nConnection: close\r\n\r\n${body}`, "latin1");
}

/** Pipes the registry's answer to the client and resets the client after `afterBytes` of body. */
function resetMidBody(registry: Socket, client: Socket, afterBytes: number): void {
  let head: Buffer | undefined = Buffer.alloc(0);
  let sent = 0;
  let done = false;
  registry.on("data", (data: Buffer) => {
    if (done) return;
    if (head) {
      head = Buffer.concat([head, data]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.write(head.subarray(0, end + 4));
      data = head.subarray(end + 4);
      head = undefined;
    }
    const room = afterBytes - sent;
    if (data.length < room) {
      client.write(data);
      sent += data.length;
      return;
    }
    done = true;
    client.write(data.subarray(0, room), () => {
      client.resetAndDestroy();
      registry.destroy();
    });
  });
}

export async function startRegistryRelay(registryHost: string): Promise<RegistryRelay> {
  const [host, port] = registryHost.split(":") as [string, string];
  const requests: RegistryRequest[] = [];
  const relay: RegistryRelay = {
    host: "",
    requests,
    manifestFetches: (repository, tag) =>
      requests.filter(
        (r) =>
          r.kind === "manifest" &&
          (r.method === "GET" || r.method === "HEAD") &&
          r.path === `/v2/${repository}/manifests/${tag}`,
      ).length,
    decide: () => ({ kind: "pass" }),
    close: async () => {
      await server.close();
    },
  };
  const server = await serveLoopbackPort(0, (client, open) => {
    let head = Buffer.alloc(0);
    const onData = async (data: Buffer) => {
      head = Buffer.concat([head, data]);
      // The daemon tries TLS first: let the registry refuse the handshake at once, as it would.
      const tls = head[0] === 0x16;
      if (!tls && head.indexOf("\r\n\r\n") < 0) return;
      client.off("data", onData);
      client.pause();
      if (tls) {
        const registry = netConnect({ host, port: Number(port) });
        open.add(registry);
        registry.on("close", () => open.delete(registry));
        registry.on("error", () => client.destroy());
        registry.write(head);
        client.pipe(registry).pipe(client);
        client.resume();
        return;
      }
      const [method = "", path = ""] = head.toString("latin1").split("\r\n", 1)[0]!.split(" ");
      const kind = kindOf(path);
      const action = relay.decide({ method, path, kind });
      requests.push({ method, path, kind, action: action.kind });
      if (action.kind === "status") {
        client.end(answer(action.status, action.headers, action.body));
        return;
      }
      if (action.kind === "hold") await action.until;
      const registry = netConnect({ host, port: Number(port) });
      open.add(registry);
      registry.on("close", () => {
        open.delete(registry);
        client.end();
      });
      registry.on("error", () => client.destroy());
      client.on("close", () => registry.destroy());
      registry.write(closeAfterResponse(head));
      client.pipe(registry);
      client.resume();
      if (action.kind === "reset-mid-body") resetMidBody(registry, client, action.afterBytes);
      else registry.pipe(client);
    };
    client.on("data", onData);
  });
  relay.host = `127.0.0.1:${server.port}`;
  return relay;
}

/** A raw Engine API request (tag and push are not berth operations), answered in full. */
export function daemonRequest(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const upstream = createUpstream(resolveDockerEndpoint(process.env));
  return new Promise((resolve, reject) => {
    const req = request({
      ...upstream.requestOptions(),
      method,
      path,
      headers: { Host: "docker", ...headers },
    });
    req.once("error", reject);
    req.once("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString("utf8")));
      res.on("end", () => {
        upstream.close();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.end();
  });
}

/** The header value for the test user (what `docker login` would store, encoded for the daemon). */
export function registryAuth(registry: string, password: string): string {
  return encodeRegistryAuth({ username: REGISTRY_USER, password, serveraddress: registry });
}

export interface UniqueImageOptions {
  /** Size of the image's own layer of random bytes (default 2 MB). */
  layerBytes?: number;
  /** The image it builds on (default the suite's busybox fixture). */
  base?: string;
  /** Labels of the build (default the suite's). */
  labels?: Record<string, string>;
}

/**
 * Builds an image with a layer of `layerBytes` random bytes on the busybox fixture (so a pull
 * really downloads a layer the daemon does not have), pushes it as `ref` with the test user's
 * credentials, and removes it locally. Outside vitest (the benchmarks) pass `base` and `labels`.
 */
export async function pushUniqueImage(
  ref: string,
  password: string,
  options: UniqueImageOptions = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "berth-unique-image-"));
  try {
    writeFileSync(join(dir, "blob"), randomBytes(options.layerBytes ?? 2_000_000));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${options.base ?? fixtureImage()}\nCOPY blob /blob\n`);
    await engine.buildImage(
      { dir, files: ["Dockerfile", "blob"] },
      { tag: ref, labels: options.labels ?? testLabels() },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const slash = ref.indexOf("/");
  const colon = ref.lastIndexOf(":");
  const registry = ref.slice(0, slash);
  const push = await daemonRequest(
    "POST",
    `/images/${ref.slice(0, colon)}/push?tag=${ref.slice(colon + 1)}`,
    {
      "X-Registry-Auth": registryAuth(registry, password),
    },
  );
  if (push.status !== 200 || push.body.includes('"error"'))
    throw new Error(`push of ${ref} failed: ${push.body}`);
  await removeLocalImage(ref);
}

/** Removes a tag and, when nothing else uses it, the image; absent is fine. */
export async function removeLocalImage(ref: string): Promise<void> {
  await engine.removeImage(ref).catch(() => {});
}

/** A DOCKER_CONFIG directory holding `config`; remove it with the returned function. */
export function dockerConfigDir(config: Record<string, unknown>): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "berth-docker-config-"));
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An `auths` entry as `docker login` writes it. */
export function loginEntry(password: string): { auth: string } {
  return { auth: Buffer.from(`${REGISTRY_USER}:${password}`).toString("base64") };
}

/** The layer digests of `repository:tag`, asked of the registry itself (not through a relay). */
export async function layerDigests(
  registry: TestRegistry,
  repository: string,
  tag: string,
): Promise<string[]> {
  const response = await fetch(`http://${registry.host}/v2/${repository}/manifests/${tag}`, {
    headers: {
      Accept: "application/vnd.docker.distribution.manifest.v2+json",
      Authorization: `Basic ${Buffer.from(`${REGISTRY_USER}:${registry.password}`).toString("base64")}`,
    },
  });
  if (!response.ok) throw new Error(`manifest of ${repository}:${tag}: HTTP ${response.status}`);
  const manifest = (await response.json()) as { layers: { digest: string }[] };
  return manifest.layers.map((l) => l.digest);
}

/** True once some socket in `pid`'s network namespace listens on 127.0.0.1:`port`. */
function listensInNamespace(pid: number, port: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  try {
    return readFileSync(`/proc/${pid}/net/tcp`, "utf8")
      .split("\n")
      .some((line) => line.trim().split(/\s+/)[1] === local && line.trim().split(/\s+/)[3] === "0A");
  } catch {
    return false;
  }
}

/**
 * Makes 127.0.0.1:`port` of this host answer inside the network namespace of process `pid` (a
 * private daemon's, whose loopback is its own): socat listens there on the same port and pipes
 * each connection over a unix socket (the file system is shared) to the host's port. Needs
 * nsenter (util-linux), ip (iproute2) and socat.
 */
export async function exposeToNamespace(pid: number, port: number): Promise<{ close(): Promise<void> }> {
  const bridge = await serveTempSocket("berth-ns-bridge-", (client, open) => {
    const upstream = netConnect({ host: "127.0.0.1", port });
    open.add(upstream);
    upstream.on("close", () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  const net = `--net=/proc/${pid}/ns/net`;
  execFileSync("nsenter", [net, "ip", "link", "set", "lo", "up"]);
  const socat = spawn(
    "nsenter",
    [net, "socat", `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${bridge.path}`],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => socat.once("exit", () => resolve()));
  const close = async () => {
    socat.kill("SIGTERM");
    await exited;
    await bridge.close();
  };
  const deadline = Date.now() + 10_000;
  while (!listensInNamespace(pid, port)) {
    if (socat.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`socat did not listen on 127.0.0.1:${port} in the namespace of ${pid}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { close };
}
