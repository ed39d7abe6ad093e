// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR} syntax is what these strings test.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCompose } from "../../src/stack/compose/index.js";
import { BUSYBOX, FIXTURES, loadText, plain } from "./compose-support.js";

const GOOD = join(FIXTURES, "good");

async function loadFull() {
  return loadCompose({ files: ["full.yml"], cwd: GOOD, env: { FROM_SHELL: "shell" } });
}

describe("loadCompose: the full example", () => {
  it("reads the project name, files and project directory", async () => {
    const { project } = await loadFull();
    expect(project.name).toBe("full-example");
    expect(project.files).toEqual([join(GOOD, "full.yml")]);
    expect(project.projectDir).toBe(GOOD);
    expect(Object.keys(project.services)).toEqual(["api", "db", "migrate"]);
  });

  it("drops services whose profiles are not active, and optional dependencies on them with a warning", async () => {
    const { project, warnings } = await loadFull();
    expect(project.services.cache).toBeUndefined();
    expect(project.services.api!.dependsOn.map((d) => d.service)).toEqual(["db", "migrate"]);
    expect(warnings).toEqual([
      expect.stringMatching(/api depends on cache, which is disabled by its profiles/),
    ]);
  });

  it("parses build, command and entrypoint", async () => {
    const api = (await loadFull()).project.services.api!;
    expect(api.image).toBe(BUSYBOX);
    expect(api.build).toEqual({
      context: join(GOOD, "app"),
      dockerfile: "Dockerfile.dev",
      target: "dev",
      args: { VERSION: "1.2" },
    });
    expect(api.command).toEqual(["httpd", "-f", "-p", "8080", "-h", "/www root"]);
    expect(api.entrypoint).toEqual(["/bin/sh", "-c"]);
  });

  it("combines env_file and environment (environment wins; bare names come from the environment)", async () => {
    const { api, db } = (await loadFull()).project.services;
    expect(api!.environment).toEqual({
      FROM_FILE: "yes",
      QUOTED: "a b",
      MODE: "test",
      DEBUG: "true",
      PORT: "8080",
      FROM_SHELL: "shell",
    });
    expect(db!.environment).toEqual({ POSTGRES_DB: "app", EMPTY: "", FROM_SHELL: "shell" });
  });

  it("parses ports in every form; a missing host port is dynamic", async () => {
    const api = (await loadFull()).project.services.api!;
    expect(plain(api.ports)).toEqual([
      { target: 8080, protocol: "tcp" },
      { target: 80, published: 9090, hostIp: "127.0.0.1", protocol: "tcp" },
      { target: 81, hostIp: "127.0.0.1", protocol: "tcp" },
      { target: 53, protocol: "udp" },
      { target: 7000, protocol: "tcp" },
      { target: 6000, published: 6000, protocol: "tcp" },
      { target: 6001, published: 6001, protocol: "tcp" },
      { target: 443, published: 8443, hostIp: "127.0.0.1", protocol: "tcp" },
      { target: 444, protocol: "tcp" },
    ]);
    expect(api.ports[1]!.location).toMatchObject({ path: "services.api.ports[1]", line: 32, column: 9 });
    expect(api.expose).toEqual([3000, 3001, 3002, 3003]);
  });

  it("turns healthchecks into Docker's form with milliseconds", async () => {
    const { api, db, migrate } = (await loadFull()).project.services;
    expect(api!.healthcheck).toEqual({
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
      intervalMs: 90_000,
      timeoutMs: 10_000,
      retries: 3,
      startPeriodMs: 500,
      startIntervalMs: 1000,
    });
    expect(db!.healthcheck).toEqual({ test: ["CMD", "true"] });
    expect(migrate!.healthcheck).toEqual({ test: ["NONE"], disable: true });
  });

  it("reads dependencies with their conditions", async () => {
    const { api, migrate } = (await loadFull()).project.services;
    expect(plain(api!.dependsOn)).toEqual([
      { service: "db", condition: "service_healthy", required: true },
      { service: "migrate", condition: "service_completed_successfully", required: true },
    ]);
    expect(plain(migrate!.dependsOn)).toEqual([
      { service: "db", condition: "service_started", required: true },
    ]);
  });

  it("reads memory and CPU settings in bytes and CPUs", async () => {
    const api = (await loadFull()).project.services.api!;
    expect(api.memory).toEqual({
      limitBytes: 512 * 1024 ** 2,
      reservationBytes: 128 * 1024 ** 2,
      swapLimitBytes: 1024 ** 3,
    });
    expect(api.cpus).toBe(0.5);
  });

  it("reads stop, restart and process settings", async () => {
    const { api, db, migrate } = (await loadFull()).project.services;
    expect(api).toMatchObject({
      stopSignal: "SIGINT",
      stopGracePeriodMs: 60_000,
      restart: "on-failure",
      restartMaxRetries: 3,
      workingDir: "/srv",
      user: "1000:1000",
      privileged: false,
      pid: "host",
      dns: ["127.0.0.11"],
      labels: { "com.example.role": "api" },
      profiles: [],
    });
    expect(db!.stopGracePeriodMs).toBe(0);
    expect(db!.labels).toEqual({ "com.example.role": "db", "com.example.flag": "" });
    expect(migrate!.networkMode).toBe("service:db");
  });

  it("parses volumes (named, bind, anonymous, tmpfs; short and long) and tmpfs", async () => {
    const api = (await loadFull()).project.services.api!;
    expect(plain(api.volumes)).toEqual([
      { type: "volume", source: "data", target: "/var/lib/data", readOnly: false },
      { type: "bind", source: join(GOOD, "src"), target: "/src", readOnly: true },
      { type: "bind", source: "/tmp/abs", target: "/abs", readOnly: false },
      { type: "anonymous", target: "/anonymous", readOnly: false },
      { type: "volume", source: "data", target: "/long", readOnly: true },
      { type: "bind", source: join(FIXTURES, "shared"), target: "/shared", readOnly: false },
      { type: "tmpfs", target: "/scratch", sizeBytes: 64 * 1024 ** 2 },
      { type: "anonymous", target: "/anon-long", readOnly: false },
    ]);
    expect(plain(api.tmpfs)).toEqual([
      { type: "tmpfs", target: "/run" },
      { type: "tmpfs", target: "/cache", sizeBytes: 16 * 1024 ** 2 },
    ]);
  });

  it("reads service networks with aliases and the top-level networks and volumes", async () => {
    const { project } = await loadFull();
    expect(plain(project.services.api!.networks)).toEqual([
      { name: "front", aliases: ["api.local", "www"] },
      { name: "back", aliases: [] },
    ]);
    expect(project.services.migrate!.networks).toEqual([]);
    expect(project.networks).toEqual({
      front: { name: "front", external: false, driver: "bridge", labels: { "com.example.net": "front" } },
      back: { name: "back", external: false, labels: {} },
      outside: { name: "shared-network", external: true, labels: {} },
    });
    expect(project.volumes).toEqual({
      data: { name: "data", external: false, labels: { "com.example.volume": "data" } },
      old: { name: "old", external: true, labels: {} },
    });
  });

  it("reads x-berth wait strategies and timeout", async () => {
    const api = (await loadFull()).project.services.api!;
    expect(api.berth).toEqual({
      timeoutMs: 45_000,
      wait: [
        { kind: "port", port: 8080 },
        { kind: "log", pattern: "listening on \\d+" },
        { kind: "log", pattern: "ready", times: 2 },
        { kind: "http", port: 8080, path: "/health", status: 204 },
        { kind: "http", port: 8081, path: "/" },
        { kind: "command", command: ["/bin/sh", "-c", "test -f /tmp/ready"] },
        { kind: "command", command: ["cat", "/tmp/ready"] },
        { kind: "healthcheck" },
      ],
    });
    expect((await loadFull()).project.services.db!.berth).toEqual({});
  });

  it("records where each service is defined", async () => {
    const { project } = await loadFull();
    expect(project.services.db!.location).toEqual({
      file: join(GOOD, "full.yml"),
      line: 121,
      column: 3,
      path: "services.db",
    });
  });
});

describe("loadCompose: defaults and forms", () => {
  it("fills defaults: the default network, empty collections, no healthcheck", async () => {
    const { project } = await loadText(`services:\n  a:\n    image: ${BUSYBOX}\n`);
    expect(plain(project.services.a)).toEqual({
      name: "a",
      image: BUSYBOX,
      environment: {},
      ports: [],
      expose: [],
      dependsOn: [],
      memory: {},
      volumes: [],
      networks: [{ name: "default", aliases: [] }],
      labels: {},
      tmpfs: [],
      profiles: [],
      options: {},
      secrets: [],
      configs: [],
      berth: {},
    });
    expect(project.networks).toEqual({ default: { name: "default", external: false, labels: {} } });
    expect(project.name).toBeUndefined();
  });

  it("accepts build as a string and defaults the Dockerfile", async () => {
    const { project } = await loadText("services:\n  a:\n    build: ./ctx\n");
    const dir = project.projectDir!;
    expect(project.services.a!.build).toEqual({
      context: join(dir, "ctx"),
      dockerfile: "Dockerfile",
      args: {},
    });
  });

  it("takes build args without a value from the environment", async () => {
    const text = "services:\n  a:\n    build:\n      context: .\n      args: [A=1, B, C]\n";
    const { project } = await loadText(text, { env: { B: "from-env" } });
    expect(project.services.a!.build!.args).toEqual({ A: "1", B: "from-env" });
  });

  it("treats a key without a value as absent", async () => {
    const { project } = await loadText(`services:\n  a:\n    image: ${BUSYBOX}\n    command:\n    ports:\n`);
    expect(project.services.a!.command).toBeUndefined();
    expect(project.services.a!.ports).toEqual([]);
  });

  it("keeps an empty entrypoint (it clears the image's)", async () => {
    const { project } = await loadText(`services:\n  a:\n    image: ${BUSYBOX}\n    entrypoint: []\n`);
    expect(project.services.a!.entrypoint).toEqual([]);
  });

  it("keeps the image's healthcheck test when only timings are given", async () => {
    const { project } = await loadText(
      `services:\n  a:\n    image: ${BUSYBOX}\n    healthcheck:\n      interval: 2s\n`,
    );
    expect(project.services.a!.healthcheck).toEqual({ test: [], intervalMs: 2000 });
  });

  it("accepts a healthcheck NONE test, and CMD-SHELL lists", async () => {
    const { project } = await loadText(
      `services:\n  a:\n    image: x\n    healthcheck:\n      test: [NONE]\n  b:\n    image: x\n    healthcheck:\n      test: [CMD-SHELL, "exit 0"]\n`,
    );
    expect(project.services.a!.healthcheck).toEqual({ test: ["NONE"], disable: true });
    expect(project.services.b!.healthcheck).toEqual({ test: ["CMD-SHELL", "exit 0"] });
  });

  it("accepts matching mem_limit and deploy memory, and deploy alone", async () => {
    const text =
      "services:\n  a:\n    image: x\n    mem_limit: 1g\n    deploy:\n      resources:\n        limits:\n          memory: 1024m\n        reservations:\n          memory: 64m\n  b:\n    image: x\n    deploy:\n      resources:\n        limits:\n          memory: 128m\n          cpus: '1.5'\n    memswap_limit: -1\n";
    const { project } = await loadText(text);
    expect(project.services.a!.memory).toEqual({ limitBytes: 1024 ** 3, reservationBytes: 64 * 1024 ** 2 });
    expect(project.services.b!.memory).toEqual({ limitBytes: 128 * 1024 ** 2, swapLimitBytes: -1 });
    expect(project.services.b!.cpus).toBe(1.5);
  });

  it("accepts ports with IPv6 hosts, ranges and dynamic ranges", async () => {
    const text = `services:\n  a:\n    image: x\n    ports: ["[::1]:8080:80", "9000-9001", "127.0.0.1:0:81", "1234:1234/UDP"]\n`;
    const { project } = await loadText(text);
    expect(plain(project.services.a!.ports)).toEqual([
      { target: 80, published: 8080, hostIp: "::1", protocol: "tcp" },
      { target: 9000, protocol: "tcp" },
      { target: 9001, protocol: "tcp" },
      { target: 81, hostIp: "127.0.0.1", protocol: "tcp" },
      { target: 1234, published: 1234, protocol: "udp" },
    ]);
  });

  it("accepts user as a number, tmpfs as a string, dns as a list, and restart policies", async () => {
    const text = `services:\n  a:\n    image: x\n    user: 1000\n    tmpfs: /run\n    dns: [1.1.1.1, 8.8.8.8]\n    restart: "no"\n  b:\n    image: x\n    restart: always\n`;
    const { project } = await loadText(text);
    expect(project.services.a).toMatchObject({ user: "1000", restart: "no", dns: ["1.1.1.1", "8.8.8.8"] });
    expect(plain(project.services.a!.tmpfs)).toEqual([{ type: "tmpfs", target: "/run" }]);
    expect(project.services.b!.restart).toBe("always");
  });

  it("accepts env_file as a string, optional missing files, and raw format", async () => {
    const text =
      "services:\n  a:\n    image: x\n    env_file: one.env\n  b:\n    image: x\n    env_file:\n      - path: gone.env\n        required: false\n      - path: raw.env\n        format: raw\n";
    const { project } = await loadText(text, {
      extra: { "one.env": "A=1\n", "raw.env": "R=${NOT} 'kept'\n" },
    });
    expect(project.services.a!.environment).toEqual({ A: "1" });
    expect(project.services.b!.environment).toEqual({ R: "${NOT} 'kept'" });
  });

  it("follows YAML anchors and merge keys", async () => {
    const { project } = await loadCompose({ files: ["busybox-stack.yml"], cwd: GOOD, env: {} });
    expect(Object.keys(project.services)).toEqual(["db", "cache", "migrate", "api", "web"]);
    const web = project.services.web!;
    expect(web.healthcheck?.test).toEqual([
      "CMD",
      "wget",
      "-q",
      "-O",
      "/dev/null",
      "http://127.0.0.1:8080/health",
    ]);
    expect(web.healthcheck?.intervalMs).toBe(500);
    expect(web.memory.limitBytes).toBe(32 * 1024 ** 2);
    expect(web.stopGracePeriodMs).toBe(5000);
    expect(web.ports).toMatchObject([{ target: 8080, hostIp: "127.0.0.1" }]);
    expect(project.services.migrate!.restart).toBe("no");
  });

  it("finds compose.yaml and its override when no file is given", async () => {
    const { projectDir } = await import("./compose-support.js");
    const dir = projectDir({
      "compose.yaml": "services:\n  a:\n    image: x\n",
      "compose.override.yaml": "services:\n  a:\n    command: [override]\n",
    });
    const { project } = await loadCompose({ files: [], cwd: dir, env: {} });
    expect(project.files).toEqual([join(dir, "compose.yaml"), join(dir, "compose.override.yaml")]);
    expect(project.services.a!.command).toEqual(["override"]);
  });

  it("creates nothing and reads only the files it was given", async () => {
    const { project } = await loadText("services:\n  a:\n    image: x\n    volumes: [./not-there:/data]\n");
    expect(project.services.a!.volumes[0]).toMatchObject({ type: "bind", target: "/data" });
  });
});

describe("loadCompose: profiles", () => {
  const file = join(GOOD, "profiles.yml");
  const names = async (options: { profiles?: string[]; env?: Record<string, string> }) =>
    Object.keys((await loadCompose({ files: [file], env: {}, ...options })).project.services);

  it("keeps only services without profiles by default", async () => {
    expect(await names({})).toEqual(["app"]);
  });

  it("adds services whose profile is active", async () => {
    expect(await names({ profiles: ["debug"] })).toEqual(["app", "debug"]);
    expect(await names({ profiles: ["all"] })).toEqual(["app", "seed"]);
    expect(await names({ profiles: ["*"] })).toEqual(["app", "debug", "seed"]);
  });

  it("reads COMPOSE_PROFILES when no profiles are passed", async () => {
    expect(await names({ env: { COMPOSE_PROFILES: "seed, debug" } })).toEqual(["app", "debug", "seed"]);
  });
});

describe("loadCompose: keys berth cannot honour", () => {
  it("removes the keys x-berth.ignore names and lists them in one warning, with file, line and path", async () => {
    const { project, warnings } = await loadCompose({ files: ["unsupported.yml"], cwd: GOOD, env: {} });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^berth ignores these Compose keys, as x-berth.ignore asks: /);
    expect(warnings[0]).toContain("unsupported.yml:8:5 services.app.mac_address");
    expect(warnings[0]).toContain("unsupported.yml:10:7 services.app.deploy.restart_policy");
    // What is honoured still applies.
    expect(project.services.app!.memory.limitBytes).toBe(64 * 1024 ** 2);
    expect(project.services.app!.ports).toMatchObject([{ target: 80 }]);
  });

  it("ignores x- extension keys and the obsolete version key without a warning", async () => {
    const { warnings, project } = await loadText(
      "version: '3.8'\nx-anchors:\n  img: &img x\nservices:\n  a:\n    image: *img\n    x-other: 1\n",
    );
    expect(warnings).toEqual([]);
    expect(project.unsupported).toEqual([]);
  });

  it("warns about mount modes berth does not apply", async () => {
    const { project, warnings } = await loadText(
      "services:\n  a:\n    image: x\n    volumes: ['./src:/src:ro,z']\n",
    );
    expect(project.unsupported.map((u) => u.path)).toEqual(["services.a.volumes[0]"]);
    expect(warnings[0]).toMatch(/^berth does not apply these Compose values: .*services\.a\.volumes\[0\]/);
    expect(project.services.a!.volumes[0]).toMatchObject({ readOnly: true });
  });
});
