import { describe, expect, it } from "vitest";
import type { ContainerInspect } from "../../src/engine/types.js";
import { diagnoseExit, formatDiagnosis, mayBeLateOom, tailLines } from "../../src/memory/diagnose.js";
import { OomKilledError } from "../../src/memory/errors.js";

const MiB = 1024 ** 2;

function inspect(state: Record<string, unknown>, memory = 64 * MiB): ContainerInspect {
  return {
    Id: "abc",
    Name: "/p-api-1",
    State: {
      Status: "exited",
      Running: false,
      Restarting: false,
      OOMKilled: false,
      ExitCode: 0,
      Error: "",
      ...state,
    },
    HostConfig: { Memory: memory },
  } as unknown as ContainerInspect;
}

describe("diagnoseExit", () => {
  it("says plainly that the OOM killer ended it at its limit", () => {
    const d = diagnoseExit(
      "api",
      inspect({ OOMKilled: true, ExitCode: 137 }),
      "allocating\nstill allocating\n",
    );
    expect(d.cause).toBe("oom-killed");
    expect(d.summary).toBe("service `api` was killed by the kernel OOM killer at its 64 MiB limit");
    expect(d.logsTail).toEqual(["allocating", "still allocating"]);
    expect(d.container).toBe("p-api-1");
    expect(formatDiagnosis(d)).toBe(
      "service `api` was killed by the kernel OOM killer at its 64 MiB limit\n  last 2 log lines:\n    allocating\n    still allocating",
    );
  });

  it("counts an oom event before a SIGKILL exit as an OOM kill", () => {
    const d = diagnoseExit("api", inspect({ ExitCode: 137 }), [], { oomEventSeen: true });
    expect(d.oomKilled).toBe(true);
    expect(diagnoseExit("api", inspect({ ExitCode: 137 })).summary).toBe(
      "service `api` was ended by SIGKILL (exit code 137)",
    );
  });

  it("says when there was no limit", () => {
    expect(diagnoseExit("api", inspect({ OOMKilled: true, ExitCode: 137 }, 0)).summary).toBe(
      "service `api` was killed by the kernel OOM killer with no memory limit of its own",
    );
  });

  it("describes exits, start failures and unhealthy services", () => {
    expect(diagnoseExit("api", inspect({ ExitCode: 3 })).summary).toBe("service `api` exited with code 3");
    expect(diagnoseExit("api", inspect({ ExitCode: 127, Error: 'exec: "nope": not found' })).cause).toBe(
      "start-failed",
    );
    const unhealthy = diagnoseExit(
      "db",
      inspect({
        Running: true,
        Status: "running",
        Health: { Status: "unhealthy", Log: [{ ExitCode: 1, Output: "connection refused\n" }] },
      }),
    );
    expect(unhealthy.cause).toBe("unhealthy");
    expect(unhealthy.exitCode).toBeUndefined();
    expect(unhealthy.summary).toBe("service `db` is unhealthy: last probe exited 1: connection refused");
  });

  it("becomes an OomKilledError with code, values and logs", () => {
    const d = diagnoseExit("api", inspect({ OOMKilled: true, ExitCode: 137 }), "line 1\nline 2");
    const error = new OomKilledError(d);
    expect(error.code).toBe("BERTH_OOM_KILLED");
    expect(error.exitCode).toBe(1);
    expect(error.containerExitCode).toBe(137);
    expect(error.limitBytes).toBe(64 * MiB);
    expect(error.message).toContain(
      "killed by the kernel OOM killer at its 64 MiB limit\n  last 2 log lines:\n    line 1",
    );
    expect(error.hint).toMatch(/berth stats --advise/);
    expect(error.toJSON()).toMatchObject({
      code: "BERTH_OOM_KILLED",
      service: "api",
      logsTail: ["line 1", "line 2"],
    });
  });
});

describe("tailLines", () => {
  it("keeps the last lines without trailing blanks", () => {
    const text = Array.from({ length: 80 }, (_, i) => `l${i}`).join("\n");
    expect(tailLines(`${text}\n\n`)).toHaveLength(50);
    expect(tailLines(text, 2)).toEqual(["l78", "l79"]);
    expect(tailLines("")).toEqual([]);
  });
});

describe("mayBeLateOom", () => {
  it("asks for the oom event only for a limited container that ended by SIGKILL without the flag", () => {
    expect(mayBeLateOom(inspect({ ExitCode: 137 }))).toBe(true);
    // The flag is there, or another exit code, or still running, or no limit: nothing to ask.
    expect(mayBeLateOom(inspect({ ExitCode: 137, OOMKilled: true }))).toBe(false);
    expect(mayBeLateOom(inspect({ ExitCode: 143 }))).toBe(false);
    expect(mayBeLateOom(inspect({ ExitCode: 0 }))).toBe(false);
    expect(mayBeLateOom(inspect({ ExitCode: 137, Running: true, Status: "running" }))).toBe(false);
    expect(mayBeLateOom(inspect({ ExitCode: 137 }, 0))).toBe(false);
  });
});
