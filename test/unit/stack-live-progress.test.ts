// The terminal's live progress: one line per service, redrawn in place, each ending ticked,
// crossed or skipped, with warnings printed after the display.
import { describe, expect, it } from "vitest";
import { liveProgress } from "../../src/stack/progress/live.js";

/** What a terminal shows after the writes: applies cursor-up and clear-line. */
function screen(writes: string[]): string[] {
  const rows: string[] = [];
  let row = 0;
  for (const chunk of writes) {
    for (const part of chunk.split(/(\x1b\[\d+A|\x1b\[2K|\n)/)) {
      const up = /^\x1b\[(\d+)A$/.exec(part);
      if (up) row -= Number(up[1]);
      else if (part === "\x1b[2K") rows[row] = "";
      else if (part === "\n") row += 1;
      else if (part) rows[row] = (rows[row] ?? "") + part;
    }
  }
  return rows;
}

describe("live progress", () => {
  it("redraws one line per service in place and keeps warnings for the end", async () => {
    const writes: string[] = [];
    const live = liveProgress({ write: (text) => writes.push(text) > 0, columns: 80 });
    live.listener({ type: "project", action: "up", project: "p", services: ["db", "api", "worker"] });
    live.listener({ type: "service", service: "db", phase: "waiting", detail: "healthcheck" });
    live.listener({ type: "warning", message: "no memory limit on api" });
    live.listener({ type: "service", service: "db", phase: "ready", detail: "1.2s" });
    live.listener({ type: "service", service: "api", phase: "failed", detail: "exited with code 1" });
    live.listener({ type: "rollback", phase: "started", reason: "api failed" });
    await live.finish();
    expect(screen(writes)).toEqual([
      "✔ db: ready in 1.2s",
      "✖ api: exited with code 1",
      "↓ worker: rolled back",
      "berth: warning: no memory limit on api",
      "berth: rolling back: api failed",
    ]);
  });

  it("cuts lines to the terminal's width so that none wraps", async () => {
    const writes: string[] = [];
    const live = liveProgress({ write: (text) => writes.push(text) > 0, columns: 20 });
    live.listener({ type: "project", action: "up", project: "p", services: ["a-very-long-service-name"] });
    live.listener({ type: "service", service: "a-very-long-service-name", phase: "starting" });
    await live.finish();
    for (const row of screen(writes)) expect(row.length).toBeLessThan(20);
  });
});
