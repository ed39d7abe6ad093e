// `berth ls`: every berth environment on the daemon, one line each: project, reuse key, state
// (leased by host/pid, idle, stale; owned or detached when not reusable), age, idle time, services.
import type { Command } from "commander";
import { formatAge } from "../../model/duration.js";
import { shortKey } from "../../stack/reuse/key.js";
import { type EnvironmentRow, listEnvironments } from "../../stack/reuse/list.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { writeListing } from "../output.js";

function stateText(row: EnvironmentRow): string {
  if (row.state === "leased") return `leased by ${row.owner ?? "?"}`;
  if (row.state === "owned") return `owned by ${row.owner ?? "?"}`;
  return row.state;
}

export function registerLs(program: Command, globals: () => GlobalOptions): void {
  program
    .command("ls")
    .description(
      "List berth environments: reuse key, lease state (leased, idle, stale), age, idle time, services",
    )
    .option("--json", "print one JSON array")
    .action(async (options: { json?: boolean }) => {
      const rows = await listEnvironments(createCliEngine(globals()));
      writeListing(rows, {
        json: options.json,
        empty: "No berth environments.",
        headers: ["PROJECT", "KEY", "STATE", "AGE", "IDLE", "SERVICES"],
        row: (r) => [
          r.project,
          r.key ? shortKey(r.key) : "-",
          stateText(r),
          formatAge(r.ageMs),
          r.idleMs === undefined ? "-" : formatAge(r.idleMs),
          r.services.join(","),
        ],
      });
    });
}
