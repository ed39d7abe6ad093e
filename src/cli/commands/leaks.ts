// `berth leaks`: writes a snapshot of the daemon, or lists what is new since one (optionally only
// what carries a label, or everything carrying a label); exit 1 when there are leaks.
import type { Command } from "commander";
import { ConfigError } from "../../engine/errors.js";
import { describeResource } from "../../janitor/errors.js";
import {
  readSnapshotFile,
  type Snapshot,
  snapshot,
  waitForNoLeaks,
  writeSnapshotFile,
} from "../../janitor/leaks.js";
import type { LabelSelector } from "../../model/labels.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { EXIT, writeJSON } from "../output.js";
import { parseSeconds } from "../parse.js";
import { parseLabelOption } from "./gc.js";

interface LeaksCliOptions {
  snapshot?: string;
  since?: string;
  label?: LabelSelector;
  wait?: number;
  json?: boolean;
}

export function registerLeaks(program: Command, globals: () => GlobalOptions): void {
  program
    .command("leaks")
    .description("Find containers, networks and volumes left behind; exit 1 when there are any")
    .option("--snapshot <file>", "write a snapshot of the daemon's resources to FILE (for a later --since)")
    .option("--since <file>", "leaks are resources that are not in this snapshot")
    .option(
      "--label <key=value>",
      "only resources carrying this label count (alone: all of them are leaks)",
      parseLabelOption,
    )
    .option("--wait <seconds>", "wait up to this long for cleanups still in flight (default 0)", parseSeconds)
    .option("--json", "print the result as one JSON object")
    .action(async (options: LeaksCliOptions) => {
      const engine = createCliEngine(globals());
      if (options.snapshot) {
        const taken = await snapshot(engine);
        writeSnapshotFile(options.snapshot, taken);
        if (options.json) writeJSON({ snapshot: options.snapshot, resources: taken.resources.length });
        else
          process.stdout.write(
            `Snapshot of ${taken.resources.length} resource(s) written to ${options.snapshot}\n`,
          );
        return;
      }
      if (!options.since && !options.label) {
        throw new ConfigError("berth leaks needs --since FILE, --label KEY=VALUE, or --snapshot FILE", {
          hint: "Take a snapshot before the run (`berth leaks --snapshot before.json`), then check with `berth leaks --since before.json`.",
        });
      }
      const before: Snapshot = options.since
        ? readSnapshotFile(options.since)
        : { version: 1, takenAt: new Date(0).toISOString(), dockerHost: engine.endpoint.url, resources: [] };
      const leaks = await waitForNoLeaks(before, {
        engine,
        label: options.label,
        waitMs: (options.wait ?? 0) * 1000,
      });
      if (options.json) {
        writeJSON({ leaks: leaks.map((r) => ({ kind: r.kind, id: r.id, name: r.name, labels: r.labels })) });
      } else if (leaks.length === 0) {
        process.stdout.write("No leaks.\n");
      } else {
        process.stdout.write(
          `${leaks.length} leak(s):\n${leaks.map((r) => `  ${describeResource(r)}`).join("\n")}\n`,
        );
      }
      process.exitCode = leaks.length > 0 ? EXIT.failure : EXIT.ok;
    });
}
