import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCompose } from "../../src/stack/compose/index.js";
import { caught } from "../support/caught.js";
import { FIXTURES, loadTexts, plain } from "./compose-support.js";

const GOOD = join(FIXTURES, "good");
const load = (...files: string[]) => loadCompose({ files, cwd: GOOD, env: {} });

describe("merging -f files (Compose's override rules)", () => {
  it("merges the override pair from the fixtures", async () => {
    const { project, warnings } = await load("override-base.yml", "override-dev.yml");
    expect(warnings).toEqual([]);
    expect(project.files).toEqual([join(GOOD, "override-base.yml"), join(GOOD, "override-dev.yml")]);
    expect(Object.keys(project.services)).toEqual(["web", "db", "worker"]);
    const web = project.services.web!;
    // command, entrypoint and healthcheck.test are replaced, not appended
    expect(web.command).toEqual(["httpd", "-f", "-p", "9090"]);
    // mappings merge key by key (list and map forms alike)
    expect(web.environment).toEqual({ MODE: "dev", KEEP: "kept", EXTRA: "1" });
    expect(web.labels).toEqual({ tier: "dev" });
    expect(web.healthcheck).toEqual({ test: ["CMD-SHELL", "exit 0"], intervalMs: 10_000, retries: 5 });
    expect(plain(web.dependsOn)).toEqual([{ service: "db", condition: "service_healthy", required: true }]);
    // ports merge by {ip, published, target, protocol}; expose and dns append without duplicates
    expect(plain(web.ports)).toEqual([
      { target: 8080, hostIp: "127.0.0.1", protocol: "tcp" },
      { target: 9000, published: 9000, hostIp: "127.0.0.1", protocol: "tcp" },
      { target: 9090, hostIp: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(web.expose).toEqual([1000, 2000]);
    expect(web.dns).toEqual(["10.0.0.1", "10.0.0.2"]);
    // volumes merge by target: the later mount replaces the earlier one in place
    expect(plain(web.volumes)).toEqual([
      { type: "volume", source: "data", target: "/data", readOnly: false },
      { type: "bind", source: join(GOOD, "dev-config"), target: "/config", readOnly: false },
    ]);
    // network aliases append; scalars are replaced; x-berth is replaced whole
    expect(plain(web.networks)).toEqual([{ name: "front", aliases: ["web-base", "web-dev"] }]);
    expect(web.memory.limitBytes).toBe(128 * 1024 ** 2);
    expect(web.berth).toEqual({ wait: [{ kind: "log", pattern: "started" }] });
    // a service only in the override is added; top-level networks merge
    expect(project.services.db!.healthcheck).toEqual({ test: ["CMD", "true"] });
    expect(project.services.worker!.image).toBe("berth-fixture/busybox:1.35.0");
    expect(project.networks.front).toEqual({ name: "front", external: false, labels: { added: "yes" } });
  });

  it("keeps where a service was first defined, and where merged values came from", async () => {
    const { project } = await load("override-base.yml", "override-dev.yml");
    const web = project.services.web!;
    expect(web.location.file).toBe(join(GOOD, "override-base.yml"));
    expect(project.services.worker!.location.file).toBe(join(GOOD, "override-dev.yml"));
    expect(web.ports[2]!.location?.file).toBe(join(GOOD, "override-dev.yml"));
    expect(web.ports[1]!.location?.file).toBe(join(GOOD, "override-base.yml"));
  });

  it("honours !reset and !override", async () => {
    const { project } = await load("override-base.yml", "override-dev.yml", "override-reset.yml");
    const web = project.services.web!;
    expect(web.ports).toEqual([]);
    expect(web.environment).toEqual({ ONLY: "this" });
    expect(web.expose).toEqual([1000, 2000]);
  });

  it("resolves relative paths in every file against the first file's directory", async () => {
    const { project } = await loadTexts([
      "services:\n  a:\n    image: x\n    volumes: [./one:/one]\n",
      "services:\n  a:\n    volumes: [./two:/two]\n    build: ./ctx\n",
    ]);
    const dir = project.projectDir!;
    expect(project.services.a!.volumes.map((v) => (v.type === "bind" ? v.source : ""))).toEqual([
      join(dir, "one"),
      join(dir, "two"),
    ]);
    expect(project.services.a!.build!.context).toBe(join(dir, "ctx"));
  });

  it("merges build (args key by key), deploy, tmpfs, profiles and env files", async () => {
    const { project } = await loadTexts(
      [
        "services:\n  a:\n    build:\n      context: .\n      args: {A: '1', B: '1'}\n    tmpfs: [/run, '/tmp:size=1m']\n    env_file: [one.env]\n    deploy:\n      resources:\n        limits: {memory: 64m}\n",
        "services:\n  a:\n    build:\n      dockerfile: Other\n      args: [B=2, C=3]\n    tmpfs: ['/tmp:size=2m']\n    env_file: [two.env, one.env]\n    deploy:\n      resources:\n        limits: {cpus: '2'}\n",
      ],
      { extra: { "one.env": "X=1\nY=1\n", "two.env": "Y=2\n" } },
    );
    const a = project.services.a!;
    expect(a.build).toMatchObject({ dockerfile: "Other", args: { A: "1", B: "2", C: "3" } });
    expect(plain(a.tmpfs)).toEqual([
      { type: "tmpfs", target: "/run" },
      { type: "tmpfs", target: "/tmp", sizeBytes: 2 * 1024 ** 2 },
    ]);
    // one.env is read once, in its first place; two.env then overrides Y.
    expect(a.environment).toEqual({ X: "1", Y: "2" });
    expect(a.memory.limitBytes).toBe(64 * 1024 ** 2);
    expect(a.cpus).toBe(2);
  });

  it("merges depends_on entries field by field", async () => {
    const { project } = await loadTexts([
      "services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_healthy}\n  b:\n    image: x\n  c:\n    image: x\n",
      "services:\n  a:\n    depends_on:\n      b: {required: false}\n      c: {condition: service_started}\n",
    ]);
    expect(plain(project.services.a!.dependsOn)).toEqual([
      { service: "b", condition: "service_healthy", required: false },
      { service: "c", condition: "service_started", required: true },
    ]);
  });

  it("the last file's project name wins", async () => {
    const { project } = await loadTexts(["name: one\nservices:\n  a:\n    image: x\n", "name: two\n"]);
    expect(project.name).toBe("two");
  });

  it("accepts an override file with only top-level keys", async () => {
    const { project } = await loadTexts([
      "services:\n  a:\n    image: x\n    volumes: [data:/d]\nvolumes:\n  data:\n",
      "volumes:\n  data:\n    labels: {k: v}\n",
    ]);
    expect(project.volumes.data).toEqual({ name: "data", external: false, labels: { k: "v" } });
  });

  it("finds conflicts that only exist after merging, in the file that made them", async () => {
    const error = await caught(
      loadTexts([
        "services:\n  a:\n    image: x\n    mem_limit: 64m\n",
        "services:\n  a:\n    deploy:\n      resources:\n        limits:\n          memory: 128m\n",
      ]),
    );
    expect(error).toMatchObject({
      code: "BERTH_COMPOSE",
      path: "services.a.deploy.resources.limits.memory",
      line: 6,
    });
    expect(String(error.file)).toMatch(/compose1\.yml$/);
    expect(error.message).toContain("conflicts with services.a.mem_limit (64 MiB vs 128 MiB)");
  });

  it("refuses a -f file that does not exist, naming it", async () => {
    const error = await caught(load("override-base.yml", "nope.yml"));
    expect(error).toMatchObject({ code: "BERTH_COMPOSE", file: join(GOOD, "nope.yml") });
    expect(error.message).toContain("nope.yml: compose file not found");
  });
});
