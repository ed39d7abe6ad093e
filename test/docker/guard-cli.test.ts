// The CLI's engine is guarded: `--verbose` logs every call and prints the guard's metrics when the
// command ends; a bad limiter setting in the environment is a usage error (exit 2).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { engine, startFixture } from "./support.js";

const started: string[] = [];
afterEach(async () => {
  // The command under test removes them; this only matters when it failed.
  await Promise.all(started.splice(0).map((name) => safeRemove(engine, name, { graceSeconds: 5 })));
});

async function fixture(): Promise<string> {
  const { name } = await startFixture({});
  started.push(name);
  return name;
}

const run = promisify(execFile);

/** Runs the CLI from source, so the test needs no build. */
function berth(args: string[], env: Record<string, string> = {}) {
  const script = `import(${JSON.stringify(`${process.cwd()}/src/cli/main.ts`)}).then(async (m) => { process.exitCode = await m.main(["node", "berth", ...process.argv.slice(1)]); })`;
  return run(process.execPath, ["--import", "tsx", "-e", script, "--", ...args], {
    env: { ...process.env, ...env },
  }).catch((e: { code: number; stdout: string; stderr: string }) => e);
}

describe("berth --verbose", () => {
  it("logs each engine call and prints the guard's metrics at the end", async () => {
    const name = await fixture();
    const result = (await berth(["--verbose", "rm", name])) as {
      stdout: string;
      stderr: string;
      code?: number;
    };
    expect(result.code ?? 0).toBe(0);
    expect(result.stdout).toContain(`${name}: stopped by SIGTERM`);
    expect(result.stderr).toMatch(
      /\[berth\] [\d:.]+ container\.inspect read queued=[\d.]+ms took=[\d.]+m?s ok retries=0/,
    );
    expect(result.stderr).toMatch(/container\.stop lifecycle .* ok retries=0/);
    expect(result.stderr).toContain("berth guard: limiter adaptive: limit");
    expect(result.stderr).toMatch(/calls: \d+ lifecycle, \d+ read, \d+ stream; 0 retries, 0 failures/);
  });

  it("writes JSON lines to BERTH_LOG_FILE with BERTH_LOG=debug, and nothing to stderr", async () => {
    const name = await fixture();
    const file = `/tmp/berth-guard-cli-${process.pid}-${Date.now()}.log`;
    const result = (await berth(["rm", name], {
      BERTH_LOG: "debug",
      BERTH_LOG_FORMAT: "json",
      BERTH_LOG_FILE: file,
    })) as { stderr: string; code?: number };
    expect(result.code ?? 0).toBe(0);
    expect(result.stderr).not.toContain("[berth]");
    const { readFileSync, rmSync } = await import("node:fs");
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    rmSync(file, { force: true });
    expect(lines.find((l) => l.operation === "container.remove")).toMatchObject({
      event: "call",
      class: "lifecycle",
      outcome: "ok",
      retries: 0,
    });
  });

  it("starts from what the previous command's limiter learned: no probe holds the second stop back", async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "berth-guard-cli-"));
    const memory = join(dir, "limiter.json");
    // Each stop lasts as long as the trap: a probed stop would hold the other back that long.
    const slowStop = async () => {
      const { name } = await startFixture({
        cmd: ["sh", "-c", "trap 'sleep 1; exit 0' TERM; sleep 3600 & wait"],
      });
      started.push(name);
      return name;
    };
    const stops = (file: string) =>
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.operation === "container.stop")
        .map((l) => {
          const end = Date.parse(l.time as string);
          return { dispatched: end - (l.durationMs as number), end };
        });
    try {
      const first = (await berth(["rm", await slowStop()], { BERTH_LIMITER_BASELINES: memory })) as {
        code?: number;
      };
      expect(first.code ?? 0).toBe(0);
      const learned = JSON.parse(readFileSync(memory, "utf8")) as { baselines: Record<string, number> };
      expect(Object.keys(learned.baselines)).toEqual(
        expect.arrayContaining(["container.stop", "container.remove"]),
      );
      const log = join(dir, "second.log");
      const second = (await berth(["rm", await slowStop(), await slowStop()], {
        BERTH_LIMITER_BASELINES: memory,
        BERTH_LOG: "debug",
        BERTH_LOG_FORMAT: "json",
        BERTH_LOG_FILE: log,
      })) as { code?: number };
      expect(second.code ?? 0).toBe(0);
      const [a, b] = stops(log).sort((x, y) => x.dispatched - y.dispatched);
      // Both stops were in flight together: the second went long before the first answered (a
      // probe would have sent it only then; each stop lasts the trap's second).
      expect(b!.dispatched).toBeLessThan((a!.dispatched + a!.end) / 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a bad BERTH_LIMITER_MAX_CONCURRENT with exit 2 and the p-queue-style message", async () => {
    const result = (await berth(["rm", "anything"], {
      BERTH_LIMITER: "fixed",
      BERTH_LIMITER_MAX_CONCURRENT: "0",
    })) as { stderr: string; code: number };
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "Expected `BERTH_LIMITER_MAX_CONCURRENT` to be a whole number from 1 up, got `0`",
    );
    expect(result.stderr).toContain("BERTH_CONFIG");
  });
});
