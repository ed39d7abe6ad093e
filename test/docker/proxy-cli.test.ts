// The docker CLI through berth's proxy: DOCKER_HOST points at the proxy, the daemon is real.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { docker, follow, onTty, startTestProxy, suiteLabelArgs, type TestProxy } from "./proxy-support.js";
import { engine, fixtureImage, READY_LINE, uniqueName, waitForLine } from "./support.js";

let t: TestProxy;
const created: string[] = [];

/** Starts a detached fixture container through the proxy; removed at the end if still there. */
async function runDetached(cmd: string, extra: string[] = []): Promise<string> {
  const name = uniqueName("proxy");
  created.push(name);
  const r = await docker(
    ["run", "-d", "--name", name, ...runArgs(), ...extra, fixtureImage(), "sh", "-c", cmd],
    {
      env: t.env,
    },
  );
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  // Commands that announce their SIGTERM trap are stopped only once it is set.
  if (cmd.includes(READY_LINE)) await waitForLine(name);
  return name;
}

const TRAP_LOOP = "trap 'exit 0' TERM; sleep 3600 & wait";

/** The run's label, and no network: these tests are about the API, not container networking. */
const runArgs = () => [...suiteLabelArgs(), "--network", "none"];

beforeAll(async () => {
  t = await startTestProxy();
});

afterAll(async () => {
  await Promise.all(created.map((name) => safeRemove(engine, name, { maxGraceSeconds: 2 })));
  await t?.stop();
});

describe("the docker CLI through the proxy", () => {
  it("lists containers (`docker ps`) and negotiates the API version", async () => {
    const r = await docker(["ps", "--format", "{{.ID}}"], { env: t.env });
    expect(r.code).toBe(0);
    const version = await docker(["version", "--format", "{{.Server.APIVersion}}"], { env: t.env });
    expect(version.stdout.trim()).toBe("1.41");
  });

  it("runs a container to completion with its output (`run --rm`), stdout and stderr apart", async () => {
    const r = await docker(
      ["run", "--rm", ...runArgs(), fixtureImage(), "sh", "-c", "echo out-line; echo err-line >&2; exit 3"],
      { env: t.env },
    );
    expect(r.stdout).toBe("out-line\n");
    expect(r.stderr).toBe("err-line\n");
    expect(r.code).toBe(3);
  });

  it("passes stdin through and delivers its end (`run -i --rm` with piped input)", async () => {
    const r = await docker(["run", "--rm", "-i", ...runArgs(), fixtureImage(), "sh", "-c", "wc -l"], {
      env: t.env,
      input: "a\nb\nc\n",
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("3");
  });

  it("runs an interactive container on a terminal (`run -it --rm`)", async () => {
    const r = await onTty(
      `docker run --rm -it ${runArgs().join(" ")} ${fixtureImage()} sh -c 'tty; echo interactive-ok'`,
      { env: t.env },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain("interactive-ok");
  });

  it("execs with and without a TTY, with stdin", async () => {
    const name = await runDetached(TRAP_LOOP);
    const plain = await docker(["exec", name, "sh", "-c", "echo exec-out; echo exec-err >&2; exit 4"], {
      env: t.env,
    });
    expect(plain).toMatchObject({ code: 4, stdout: "exec-out\n", stderr: "exec-err\n" });

    const piped = await docker(["exec", "-i", name, "sh", "-c", "tr a-z A-Z"], {
      env: t.env,
      input: "shout\n",
    });
    expect(piped).toMatchObject({ code: 0, stdout: "SHOUT\n" });

    const tty = await onTty(`docker exec -it ${name} sh -c 'tty; echo tty-exec-ok'`, { env: t.env });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(tty.stdout).toContain("tty-exec-ok");
  });

  it("attaches to a running container and follows it to its end (`docker attach`)", async () => {
    const name = await runDetached("while [ ! -f /go ]; do sleep 0.1; done; echo attached-line; exit 5");
    const upgradesBefore = t.proxy.metrics().requests.byStatus["101"] ?? 0;
    const attached = docker(["attach", "--no-stdin", name], { env: t.env });
    // Once the attach connection is upgraded, let the container speak and end.
    await expect
      .poll(() => t.proxy.metrics().requests.byStatus["101"] ?? 0, { timeout: 30_000 })
      .toBeGreaterThan(upgradesBefore);
    await docker(["exec", name, "touch", "/go"], { env: t.env });
    const r = await attached;
    expect(r.stdout).toContain("attached-line");
    expect(r.code).toBe(5);
  });

  it("follows logs as they are written (`logs -f` for a few seconds) and lets go cleanly", async () => {
    const name = await runDetached(
      "i=0; trap 'exit 0' TERM; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done",
    );
    const following = follow("docker", ["logs", "-f", "--tail", "0", name], t.env);
    const ticks = () =>
      following
        .output()
        .split("\n")
        .filter((l) => l.startsWith("tick")).length;
    // Follow for a few seconds' worth of lines (a loaded machine may need longer).
    await expect.poll(ticks, { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(12);
    const { arrivals } = await following.stop();
    // Lines arrived over the whole period, not in one burst at the end.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(1_000);
    await expect.poll(() => t.proxy.metrics().inFlight.stream, { timeout: 5_000 }).toBe(0);
  });

  it("samples resource usage (`stats --no-stream`)", async () => {
    const name = await runDetached(TRAP_LOOP);
    const r = await docker(["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", name], {
      env: t.env,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(name);
  });

  it("copies files in and out (`docker cp`: streamed request and response bodies)", async () => {
    const name = await runDetached(TRAP_LOOP);
    const dir = mkdtempSync(join(tmpdir(), "berth-proxy-cp-"));
    try {
      const payload = "x".repeat(300_000);
      writeFileSync(join(dir, "in.txt"), payload);
      expect((await docker(["cp", join(dir, "in.txt"), `${name}:/in.txt`], { env: t.env })).code).toBe(0);
      expect((await docker(["cp", `${name}:/in.txt`, join(dir, "out.txt")], { env: t.env })).code).toBe(0);
      expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe(payload);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("builds an image from a fixture Dockerfile (`docker build`)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-proxy-build-"));
    const tag = `${uniqueName("proxy-build")}:1`;
    try {
      writeFileSync(
        join(dir, "Dockerfile"),
        `FROM ${fixtureImage()}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n`,
      );
      writeFileSync(join(dir, "hello.txt"), "built through the proxy\n");
      const build = await docker(
        ["build", "--force-rm", "--network", "none", "-t", tag, ...suiteLabelArgs(), dir],
        { env: t.env, timeoutMs: 90_000 },
      );
      expect(build.code).toBe(0);
      const r = await docker(["run", "--rm", ...runArgs(), tag, "cat", "/hello.txt"], { env: t.env });
      expect(r.stdout).toBe("built through the proxy\n");
    } finally {
      await engine.removeImage(tag).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("turns `docker rm -f` of a running container into a graceful stop: its SIGTERM trap runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-proxy-marker-"));
    try {
      const name = await runDetached(
        "trap 'echo trapped > /out/marker; exit 0' TERM; echo berth-ready; sleep 3600 & wait",
        ["-v", `${dir}:/out`],
      );
      const before = t.proxy.metrics().rewrites.total;
      const r = await docker(["rm", "-f", name], { env: t.env });
      expect(r).toMatchObject({ code: 0, stdout: `${name}\n` });
      expect(readFileSync(join(dir, "marker"), "utf8").trim()).toBe("trapped");
      expect(await engine.findContainer(name)).toBeUndefined();
      expect(t.proxy.metrics().rewrites.total).toBe(before + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers `docker rm -f` of a missing container with the daemon's own error", async () => {
    const r = await docker(["rm", "-f", uniqueName("missing")], { env: t.env });
    // The CLI treats a missing container as success with -f (it reads the daemon's 404).
    expect(r.code).toBe(0);
    const plain = await docker(["rm", uniqueName("missing")], { env: t.env });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/No such container/);
  });

  it("relays `docker rm -f` unchanged with the rewrite off: the container is killed, its trap never runs", async () => {
    const raw = await startTestProxy({ rewriteForceRemoval: false });
    const dir = mkdtempSync(join(tmpdir(), "berth-proxy-marker-"));
    try {
      const name = await runDetached(
        "trap 'echo trapped > /out/marker; exit 0' TERM; echo berth-ready; sleep 3600 & wait",
        ["-v", `${dir}:/out`],
      );
      const r = await docker(["rm", "-f", name], { env: raw.env });
      expect(r.code).toBe(0);
      expect(() => readFileSync(join(dir, "marker"), "utf8")).toThrow();
      expect(raw.proxy.metrics().rewrites.total).toBe(0);
    } finally {
      await raw.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
