import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { DaemonUnavailableError } from "../../src/engine/errors.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { engine, fixtureImage, startFixture, testLabels, uniqueName, waitForLine } from "./support.js";

const run = promisify(execFile);

describe("safeRemove against the real daemon", () => {
  it("stops a SIGTERM-trapping container well inside the grace period, and its trap ran", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-marker-"));
    try {
      const name = uniqueName("trap");
      const { id } = await engine.createContainer({
        name,
        Image: fixtureImage(),
        Cmd: [
          "sh",
          "-c",
          "trap 'echo trapped > /out/marker; exit 0' TERM; echo berth-ready; sleep 3600 & wait",
        ],
        Labels: testLabels(),
        HostConfig: { Binds: [`${dir}:/out`] },
      });
      await engine.startContainer(id);
      await waitForLine(id);
      const record = await safeRemove(engine, name, { graceSeconds: 10 });
      expect(record.outcome).toBe("exited");
      expect(record.exitCode).toBe(0);
      expect(record.stopSignal).toBe("SIGTERM");
      expect(record.totalMs).toBeLessThan(5_000);
      expect(readFileSync(join(dir, "marker"), "utf8").trim()).toBe("trapped");
      expect(await engine.findContainer(id)).toBeUndefined();
      expect(record.steps.map((s) => s.step)).toEqual([
        "inspect",
        "stop",
        "wait-not-running",
        "remove",
        "verify-gone",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a container that ignores SIGTERM as killed-after-grace after about the grace period", async () => {
    const { name } = await startFixture({
      cmd: ["sh", "-c", "trap '' TERM; sleep 3600 & wait"],
    });
    const record = await safeRemove(engine, name, { graceSeconds: 2 });
    expect(record.outcome).toBe("killed-after-grace");
    expect(record.exitCode).toBe(137);
    const stop = record.steps.find((s) => s.step === "stop")!;
    expect(stop.durationMs).toBeGreaterThanOrEqual(1_900);
    expect(stop.durationMs).toBeLessThan(6_000);
  });

  it("uses the container's own StopTimeout as the grace period by default", async () => {
    const { name } = await startFixture({
      cmd: ["sh", "-c", "trap '' TERM; sleep 3600 & wait"],
      stopTimeout: 1,
    });
    const record = await safeRemove(engine, name);
    expect(record.graceSeconds).toBe(1);
    expect(record.outcome).toBe("killed-after-grace");
  });

  it("succeeds as already-removed for a container that does not exist", async () => {
    const record = await safeRemove(engine, uniqueName("never"));
    expect(record.outcome).toBe("already-removed");
    expect(record.exitCode).toBeNull();
  });

  it("removes an exited container as was-stopped", async () => {
    const { id } = await startFixture({ cmd: ["sh", "-c", "exit 3"] });
    await engine.waitContainer(id, "not-running");
    const record = await safeRemove(engine, id);
    expect(record.outcome).toBe("was-stopped");
    expect(record.exitCode).toBe(3);
  });

  it("lets two concurrent removals of one container both succeed", async () => {
    const { id } = await startFixture({});
    const [a, b] = await Promise.all([safeRemove(engine, id), safeRemove(engine, id)]);
    // One of them stops it; the other finds it stopping, stopped (`was-stopped`) or gone, as the
    // daemon's timing has it. Both succeed, neither kills it, and it is gone.
    const outcomes = [a.outcome, b.outcome];
    for (const outcome of outcomes) expect(["exited", "was-stopped", "already-removed"]).toContain(outcome);
    expect(outcomes).toContain("exited");
    expect(await engine.findContainer(id)).toBeUndefined();
  });

  it("removes a restart: always container for good, with its anonymous volume", async () => {
    const { id, name } = await startFixture({ restart: "always", volumes: { "/data": {} } });
    const info = await engine.inspectContainer(id);
    const volume = info.Mounts.find((m) => m.Destination === "/data")?.Name;
    expect(volume).toBeTruthy();
    const record = await safeRemove(engine, id);
    expect(record.steps.some((s) => s.step === "disable-restart")).toBe(true);
    expect(record.outcome).toBe("exited");
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await engine.findContainer(name)).toBeUndefined();
    const volumes = await engine.listVolumes();
    expect(volumes.map((v) => v.Name)).not.toContain(volume);
  });

  it("gives the daemon-unavailable error with the socket path and a hint when the daemon is down", async () => {
    const down = new Engine({ dockerHost: "unix:///tmp/berth-no-daemon.sock" });
    const error = await safeRemove(down, "anything").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonUnavailableError);
    const e = error as DaemonUnavailableError;
    expect(e.code).toBe("BERTH_DAEMON_UNAVAILABLE");
    expect(e.endpoint).toBe("unix:///tmp/berth-no-daemon.sock");
    expect(e.message).toContain("/tmp/berth-no-daemon.sock");
    expect(e.hint).toMatch(/DOCKER_HOST/);
    expect(e.operation).toBe("container.inspect");
  });

  it("`berth rm --json` removes a container and exits 0; a bad DOCKER_HOST exits 3 with a hint", async () => {
    const { name } = await startFixture({});
    const cli = join(process.cwd(), "bin", "berth.js");
    const { stdout } = await run(process.execPath, [cli, "rm", "--json", name]);
    const record = JSON.parse(stdout.trim()) as { ok: boolean; outcome: string };
    expect(record).toMatchObject({ ok: true, outcome: "exited" });
    expect(existsSync(cli)).toBe(true);
    const failed = await run(process.execPath, [cli, "rm", name], {
      env: { ...process.env, DOCKER_HOST: "tcp://127.0.0.1:1" },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).toBe(3);
    expect((failed as { stderr: string }).stderr).toContain("BERTH_DAEMON_UNAVAILABLE");
  });
});
