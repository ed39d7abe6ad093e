// `berth stats` and `--advise` against a running labelled project: usage as Docker computes it,
// against each limit, the busy service flagged, and a recommendation above the observed peak.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ContainerCreateSpec } from "../../src/engine/types.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { observePeaks } from "../../src/memory/advise.js";
import { parseSize } from "../../src/memory/size.js";
import { projectContainers, sampleStats, usageWarnings } from "../../src/memory/stats.js";
import { cliInProcess as cli } from "./cli-in-process.js";
import { engine, fixtureImage, testLabels, uniqueName } from "./support.js";

const MiB = 1024 ** 2;
const project = uniqueName("stats");
const ids: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "berth-stats-"));

async function start(service: string, cmd: string, host: Record<string, unknown>): Promise<void> {
  const { id } = await engine.createContainer({
    name: uniqueName(service),
    Image: fixtureImage(),
    Cmd: ["sh", "-c", `trap 'exit 0' TERM; ${cmd}; sleep 3600 & wait`],
    Labels: testLabels({ "berth.project": project, "berth.service": service }),
    HostConfig: { NetworkMode: "none", ...host },
  } as ContainerCreateSpec);
  ids.push(id);
  await engine.startContainer(id);
}

beforeAll(async () => {
  // `hog` fills 24 MiB of a tmpfs (shared memory is charged to the container and is not
  // reclaimable page cache), about 38% of its 64 MiB limit; `idle` does nothing.
  await start("hog", "dd if=/dev/zero of=/fill/data bs=1M count=24 2>/dev/null; touch /fill/ready", {
    Memory: 64 * MiB,
    MemorySwap: 64 * MiB,
    Tmpfs: { "/fill": "size=48m" },
  });
  await start("idle", "true", { Memory: 32 * MiB, MemorySwap: 32 * MiB });
  await start("free", "true", {});
  const hog = ids[0]!;
  for (let i = 0; i < 100; i++) {
    if ((await engine.exec(hog, ["test", "-e", "/fill/ready"])).exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the hog did not fill its tmpfs");
});

afterAll(async () => {
  await Promise.all(ids.map((id) => safeRemove(engine, id, { graceSeconds: 2 })));
  rmSync(dir, { recursive: true, force: true });
});

describe("stats against a running project", () => {
  it("samples usage against limits, selecting the project by label", async () => {
    const containers = await projectContainers(engine, project);
    expect(containers.map((c) => c.service)).toEqual(["free", "hog", "idle"]);
    const usages = await sampleStats(engine, containers);
    const by = Object.fromEntries(usages.map((u) => [u.service, u]));
    expect(by.hog!.limitBytes).toBe(64 * MiB);
    expect(by.hog!.usageBytes).toBeGreaterThanOrEqual(24 * MiB);
    expect(by.hog!.usageBytes).toBeLessThan(40 * MiB);
    expect(by.hog!.percent).toBeGreaterThan(37);
    // cgroup v1: the daemon's high-water mark.
    expect(by.hog!.peakBytes).toBeGreaterThanOrEqual(by.hog!.usageBytes);
    expect(by.idle!.limitBytes).toBe(32 * MiB);
    expect(by.idle!.usageBytes).toBeLessThan(4 * MiB);
    expect(by.free!.limitBytes).toBeUndefined();
    expect(by.free!.percent).toBeUndefined();
    expect(usageWarnings(usages, 30).map((w) => w.service)).toEqual(["hog"]);
  });

  it("`berth stats --json` lists every service and flags those at or above the threshold", async () => {
    const { code, stdout } = await cli("stats", "-p", project, "--json", "--threshold", "30");
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      services: Array<{
        service: string;
        limitBytes: number | null;
        percent: number | null;
        warning: boolean;
      }>;
      warnings: string[];
    };
    expect(report.services.map((s) => [s.service, s.warning])).toEqual([
      ["free", false],
      ["hog", true],
      ["idle", false],
    ]);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(
      /^service `hog` \(project .*\) uses \d+% of its 64 MiB limit .* at or above 30%$/,
    );
  });

  it("`berth stats` prints a table and the warnings", async () => {
    const { code, stdout } = await cli("stats", "-p", project, "--threshold", "30");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^PROJECT\s+SERVICE\s+CONTAINER\s+USAGE\s+LIMIT\s+USE%\s+PEAK$/);
    expect(lines.find((l) => l.includes(" hog "))).toMatch(/64 MiB\s+\d+\.\d%/);
    expect(lines.find((l) => l.includes(" free "))).toMatch(/none\s+-/);
    expect(lines.at(-1)).toMatch(/^warning: service `hog`/);
  });

  it("an unknown project is an error", async () => {
    const { code, stderr } = await cli("stats", "-p", `${project}-nope`);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no running containers of project .*-nope \[BERTH_NOT_FOUND\]/);
  });

  it("`--advise` recommends limits above the observed peak and writes the override", async () => {
    const file = join(dir, "compose.limits.yml");
    const { code, stdout } = await cli(
      "stats",
      "-p",
      project,
      "--advise",
      "--duration",
      "2s",
      "--json",
      "--write",
      file,
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      rule: string;
      advice: Array<{
        service: string;
        peakBytes: number;
        recommendedBytes: number;
        change: string;
        samples: number;
      }>;
    };
    expect(result.rule).toMatch(/peak \/ 0\.6/);
    const hog = result.advice.find((a) => a.service === "hog")!;
    expect(hog.samples).toBeGreaterThanOrEqual(1);
    expect(hog.peakBytes).toBeGreaterThanOrEqual(24 * MiB);
    expect(hog.recommendedBytes).toBeGreaterThanOrEqual(hog.peakBytes / 0.6);
    expect(hog.change).toBe("keep");
    expect(result.advice.find((a) => a.service === "free")!.change).toBe("set");
    const override = parse(readFileSync(file, "utf8")) as { services: Record<string, { mem_limit: string }> };
    expect(parseSize(override.services.hog!.mem_limit)).toBe(hog.recommendedBytes);
    expect(Object.keys(override.services).sort()).toEqual(["free", "hog", "idle"]);
  });

  it("observes peaks in rounds over the window", async () => {
    const rounds: number[] = [];
    const observations = await observePeaks(engine, await projectContainers(engine, project), {
      durationMs: 1500,
      intervalMs: 500,
      onRound: (round) => rounds.push(round),
    });
    expect(rounds.length).toBeGreaterThanOrEqual(1);
    expect(observations.find((o) => o.service === "hog")!.samples).toBe(rounds.length);
  });
});
