// waitForOutputLine against the real daemon: a line printed later is seen, a line printed before
// the wait began still counts, a timeout names the last line seen, and an exit ends the wait.
import { describe, expect, it } from "vitest";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import { waitForOutputLine } from "../../src/lifecycle/wait/output-line.js";
import { NotReadyError } from "../../src/lifecycle/wait/types.js";
import { engine, startFixture } from "./support.js";

// The fixtures trap SIGTERM, so berth's own safe removal ends them at once.
const removeNow = (id: string) => safeRemove(engine, id, { graceSeconds: 5 });

describe("waitForOutputLine", () => {
  it("resolves on a line printed after the wait began and on one printed before it", async () => {
    const { id } = await startFixture({
      cmd: [
        "sh",
        "-c",
        "trap 'exit 0' TERM; echo early; sleep 1; echo 'late line (with regex chars.*)' >&2; sleep 3600 & wait",
      ],
    });
    try {
      const began = performance.now();
      await waitForOutputLine(engine, id, "late line (with regex chars.*)", { timeoutMs: 30_000 });
      expect(performance.now() - began).toBeGreaterThan(300);
      await waitForOutputLine(engine, id, "early", { timeoutMs: 5_000 });
    } finally {
      await removeNow(id);
    }
  });

  it("times out with the last line it saw, and ends at once when the output ends", async () => {
    const { id } = await startFixture({
      cmd: ["sh", "-c", "trap 'exit 0' TERM; echo first; echo still-starting; sleep 3600 & wait"],
    });
    try {
      const error = await waitForOutputLine(engine, id, "never-printed", { timeoutMs: 1_500 }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(NotReadyError);
      expect(error.reason).toBe("timeout");
      expect(error.message).toBe(`container ${id.slice(0, 12)} did not print \`never-printed\` within 1.5 s`);
      expect(error.lastProbe).toContain("still-starting");
    } finally {
      await removeNow(id);
    }
    const { id: quitter } = await startFixture({ cmd: ["sh", "-c", "echo bye; exit 0"] });
    try {
      const began = performance.now();
      const error = await waitForOutputLine(engine, quitter, "never-printed", { timeoutMs: 30_000 }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(NotReadyError);
      expect(error.reason).toBe("exited");
      expect(error.message).toContain("ended before it printed `never-printed`");
      expect(performance.now() - began).toBeLessThan(25_000);
    } finally {
      await removeNow(quitter);
    }
  });

  it("an abort of the caller's signal rejects with its reason", async () => {
    const { id } = await startFixture({ cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"] });
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("caller gave up")), 300);
      await expect(
        waitForOutputLine(engine, id, "x", { timeoutMs: 30_000, signal: controller.signal }),
      ).rejects.toThrow("caller gave up");
    } finally {
      await removeNow(id);
    }
  });
});
