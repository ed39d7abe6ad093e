// Leak detection against the real daemon: a container, a network and a volume leaked on purpose
// are found by the snapshot diff and by `berth leaks`, which exits 1 until they are gone.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { LeakDetectedError } from "../../src/janitor/errors.js";
import { listResources } from "../../src/janitor/inventory.js";
import { leaksSince, snapshot } from "../../src/janitor/leaks.js";
import { removeResources } from "../../src/janitor/remove.js";
import { startLeakCheck } from "../../src/testing/leak-check.js";
import { engine, fixtureImage, testLabels, uniqueName } from "./support.js";

const run = promisify(execFile);
const cli = join(process.cwd(), "bin", "berth.js");
const dir = mkdtempSync(join(tmpdir(), "berth-leaks-"));
const scope = `leaks-${randomUUID().slice(0, 8)}`;
const labels = () => testLabels({ "berth.test-scope": scope });

async function leakThree(): Promise<{ container: string; network: string; volume: string }> {
  const network = uniqueName("leak-net");
  await engine.createNetwork({ Name: network, Labels: labels(), CheckDuplicate: true });
  const { name: volume } = await engine.createVolume({ Name: uniqueName("leak-vol"), Labels: labels() });
  const container = uniqueName("leak-c");
  await engine.createContainer({ name: container, Image: fixtureImage(), Cmd: ["true"], Labels: labels() });
  return { container, network, volume };
}

async function cleanUp(): Promise<void> {
  await removeResources(engine, await listResources(engine, { labels: [`berth.test-scope=${scope}`] }));
}

afterAll(async () => {
  await cleanUp();
  rmSync(dir, { recursive: true, force: true });
});

describe.sequential("leak detection", () => {
  it("the snapshot diff finds a leaked container, network and volume, and only those with the label", async () => {
    const before = await snapshot(engine);
    const leaked = await leakThree();
    const leaks = await leaksSince(before, { engine, label: { key: "berth.test-scope", value: scope } });
    expect(leaks.map((l) => `${l.kind} ${l.name}`).sort()).toEqual(
      [`container ${leaked.container}`, `network ${leaked.network}`, `volume ${leaked.volume}`].sort(),
    );
    const otherRun = await leaksSince(before, {
      engine,
      label: { key: "berth.test-scope", value: "someone-else" },
    });
    expect(otherRun).toEqual([]);
    await cleanUp();
    expect(await leaksSince(before, { engine, label: { key: "berth.test-scope", value: scope } })).toEqual(
      [],
    );
  });

  it("the leak-check teardown fails with the leaks listed, and passes once they are removed", async () => {
    const teardown = await startLeakCheck({
      engine,
      label: { key: "berth.test-scope", value: scope },
      // Other runs on this daemon may create unlabelled things meanwhile; this test counts its own.
      includeUnlabelled: false,
      waitMs: 500,
      intervalMs: 100,
      log: null,
    });
    const leaked = await leakThree();
    const error = await teardown().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeakDetectedError);
    expect((error as LeakDetectedError).leaks).toHaveLength(3);
    expect((error as LeakDetectedError).message).toContain(leaked.container);
    await cleanUp();
    await expect(teardown()).resolves.toBeUndefined();
  });

  it("`berth leaks --since` and `--label` exit 1 with the leaks, 0 when clean", async () => {
    const file = join(dir, "before.json");
    await run(process.execPath, [cli, "leaks", "--snapshot", file]);
    const leaked = await leakThree();
    const failed = await run(process.execPath, [
      cli,
      "leaks",
      "--since",
      file,
      "--label",
      `berth.test-scope=${scope}`,
      "--json",
    ]).catch((e: { code: number; stdout: string }) => e);
    expect((failed as { code: number }).code).toBe(1);
    const names = (JSON.parse((failed as { stdout: string }).stdout) as { leaks: { name: string }[] }).leaks
      .map((l) => l.name)
      .sort();
    expect(names).toEqual([leaked.container, leaked.network, leaked.volume].sort());

    const byLabel = await run(process.execPath, [cli, "leaks", "--label", `berth.test-scope=${scope}`]).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect((byLabel as { code: number }).code).toBe(1);
    expect((byLabel as { stdout: string }).stdout).toContain(`network ${leaked.network}`);

    await cleanUp();
    const clean = await run(process.execPath, [
      cli,
      "leaks",
      "--since",
      file,
      "--label",
      `berth.test-scope=${scope}`,
    ]);
    expect(clean.stdout).toContain("No leaks.");
    const usage = await run(process.execPath, [cli, "leaks"]).catch((e: { code: number }) => e);
    expect((usage as { code: number }).code).toBe(2);
  });
});
