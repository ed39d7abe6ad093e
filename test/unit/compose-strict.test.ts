// Strict keys: a corpus of real-world style files loads with nothing dropped; typos are refused
// at file:line:column with a suggestion; keys of the specification that berth cannot honour are
// refused unless x-berth.ignore names them.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ComposeError, loadCompose } from "../../src/stack/compose/index.js";
import { closestKey, editDistance } from "../../src/stack/compose/key-tree.js";
import { caught } from "../support/caught.js";
import { FIXTURES, loadText, loadTexts } from "./compose-support.js";

const CORPUS = join(FIXTURES, "corpus");
const TYPOS = join(FIXTURES, "typos");
const ENV = { PG_PASSWORD: "pg-secret", GRAFANA_ADMIN: "grafana-secret" };

describe("the corpus of real-world style files", () => {
  const files = readdirSync(CORPUS).filter((f) => f.endsWith(".yml"));

  it("has files", () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  it.each(files)("%s loads with no warning and nothing dropped", async (file) => {
    const { project, warnings } = await loadCompose({
      files: [file],
      cwd: CORPUS,
      env: ENV,
      profiles: ["*"],
    });
    expect(warnings).toEqual([]);
    expect(project.unsupported).toEqual([]);
    expect(Object.keys(project.services).length).toBeGreaterThan(0);
  });

  it("keeps what the files ask for", async () => {
    const load = async (file: string) =>
      (await loadCompose({ files: [file], cwd: CORPUS, env: ENV, profiles: ["*"] })).project;
    const blog = await load("wordpress-mysql.yml");
    expect(blog.services.db!.containerName).toBe("blog-db");
    expect(blog.services.db!.secrets!.map((s) => s.target)).toEqual([
      "/run/secrets/db_root_password",
      "/run/secrets/db_password",
    ]);
    expect(blog.services.wordpress!.options!.extraHosts).toEqual(["host.docker.internal:host-gateway"]);
    const proxy = await load("reverse-proxy.yml");
    expect(proxy.services.proxy!.networks[0]).toMatchObject({ name: "front", ipv4Address: "172.28.5.10" });
    expect(proxy.networks.front!.ipam).toEqual({
      config: [{ subnet: "172.28.5.0/24", gateway: "172.28.5.1" }],
    });
    expect(proxy.networks.back).toMatchObject({ internal: true });
    const workers = await load("workers.yml");
    expect(workers.services.worker!.replicas).toBe(3);
    expect(workers.services.web!.replicas).toBe(2);
    const pg = await load("postgres-api.yml");
    expect(pg.services.postgres!.secrets![0]).toMatchObject({
      target: "/run/secrets/pg_password",
      mode: 0o400,
    });
    expect(pg.services.api!.pullPolicy).toBe("build");
    const extended = await load("extends-app.yml");
    expect(extended.services.worker).toMatchObject({
      image: "node:20-alpine",
      command: ["npm", "run", "worker"],
      ports: [],
      workingDir: "/app",
      options: { init: true },
    });
    expect(extended.services.web!.volumes[0]).toMatchObject({ type: "bind", source: join(CORPUS, "app") });
    const included = await load("with-include.yml");
    expect(included.services.cache!.environment).toEqual({ MAXMEMORY: "64mb" });
  });
});

describe("typos", () => {
  const CASES: [string, string, string, number, number][] = [
    ["enviroment.yml", "services.api.enviroment", "environment", 4, 5],
    ["helthcheck.yml", "services.api.helthcheck", "healthcheck", 4, 5],
    ["port.yml", "services.api.port", "ports", 4, 5],
    ["depends-on.yml", "services.api.depend_on", "depends_on", 6, 5],
    ["healthcheck-interval.yml", "services.api.healthcheck.intervall", "interval", 6, 7],
    ["top-level-volume.yml", "volume", "volumes", 4, 1],
    ["network-aliases.yml", "services.api.networks.default.alias", "aliases", 6, 9],
    ["x-berth-wiat.yml", "services.api.x-berth.wiat", "wait", 5, 7],
  ];

  it("covers every typo file", () => {
    expect(CASES.map((c) => c[0]).sort()).toEqual(readdirSync(TYPOS).sort());
  });

  it.each(CASES)("%s is refused at %s with a suggestion", async (file, path, suggestion, line, column) => {
    const error = await caught(loadCompose({ files: [file], cwd: TYPOS, env: {} }));
    expect(error).toBeInstanceOf(ComposeError);
    const compose = error as unknown as ComposeError;
    expect(compose.exitCode).toBe(2);
    expect(compose).toMatchObject({ path, line, column, file: join(TYPOS, file) });
    expect(compose.message).toContain(`did you mean \`${suggestion}\`?`);
  });

  it("names the other unknown keys too", async () => {
    const error = await caught(loadText("services:\n  a:\n    image: x\n    imagee: y\n    comand: z\n"));
    expect((error as Error).message).toMatch(
      /unknown key `imagee`; did you mean `image`\? \(and 1 more: services\.a\.comand\)/,
    );
  });

  it("suggests nothing when no key is close", async () => {
    const error = await caught(loadText("services:\n  a:\n    image: x\n    zzzzzzzz: 1\n"));
    expect((error as Error).message).toMatch(/unknown key `zzzzzzzz`$/);
  });

  it("measures edit distance", () => {
    expect(editDistance("enviroment", "environment")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(closestKey("helthcheck", ["healthcheck", "hostname"])).toBe("healthcheck");
    expect(closestKey("xyz", ["healthcheck"])).toBeUndefined();
  });
});

describe("keys berth cannot honour", () => {
  it("refuses one, naming it and why, with a hint to x-berth.ignore", async () => {
    const error = (await caught(
      loadText("services:\n  a:\n    image: x\n    mac_address: 02:42:ac:11:00:02\n"),
    )) as unknown as ComposeError;
    expect(error).toMatchObject({ path: "services.a.mac_address", line: 4, column: 5 });
    expect(error.message).toContain("berth cannot honour `mac_address`: a fixed MAC address clashes");
    expect(error.hint).toContain("services.a.x-berth.ignore");
  });

  it("refuses keys below honoured ones (deploy.restart_policy, build.ssh)", async () => {
    const deploy = await caught(
      loadText("services:\n  a:\n    image: x\n    deploy:\n      restart_policy: {condition: any}\n"),
    );
    expect((deploy as Error).message).toContain("use the service's `restart` key");
    const build = (await caught(
      loadText("services:\n  a:\n    build:\n      context: .\n      ssh: [default]\n"),
    )) as unknown as ComposeError;
    expect(build.path).toBe("services.a.build.ssh");
  });

  it("drops the ones x-berth.ignore names, by key name or by path, top level or per service", async () => {
    const { project, warnings } = await loadText(
      [
        "x-berth:",
        "  ignore: [links]",
        "services:",
        "  a:",
        "    image: x",
        "    links: [b]",
        "    mac_address: 02:42:ac:11:00:02",
        "    build: {context: ., ssh: [default]}",
        "    x-berth:",
        "      ignore: [mac_address, build.ssh]",
        "  b:",
        "    image: x",
        "",
      ].join("\n"),
    );
    expect(project.services.a!.image).toBe("x");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /x-berth.ignore asks: .*services\.a\.links; .*services\.a\.mac_address; .*services\.a\.build\.ssh/,
    );
  });

  it("an ignore list in one file covers the same service in an override file", async () => {
    const { warnings } = await loadTexts([
      "services:\n  a:\n    image: x\n    x-berth:\n      ignore: [gpus]\n",
      "services:\n  a:\n    gpus: all\n",
    ]);
    expect(warnings[0]).toContain("services.a.gpus");
  });

  it("refuses an ignore list that is not a list of names", async () => {
    const error = (await caught(
      loadText("x-berth:\n  ignore: links\nservices:\n  a:\n    image: x\n"),
    )) as unknown as ComposeError;
    expect(error.path).toBe("x-berth.ignore");
  });

  it("keeps x-berth's warm-environment keys (reuse, reset)", async () => {
    const { warnings } = await loadText(
      "x-berth:\n  reuse: {ttl: 2h}\nservices:\n  a:\n    image: x\n    x-berth:\n      reset: [redis-cli FLUSHALL]\n",
    );
    expect(warnings).toEqual([]);
  });
});
