// `berth ps`: the services of berth environments with state, health, ports and memory limit.
import type { Command } from "commander";
import { formatSize } from "../../memory/size.js";
import { listServices } from "../../stack/status.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { writeListing } from "../output.js";

export function registerPs(program: Command, globals: () => GlobalOptions): void {
  program
    .command("ps")
    .description("List the services of berth environments (all, or one project or session)")
    .option("-p, --project-name <name>", "only this project")
    .option("--session <id>", "only this session")
    .option("--json", "print one JSON array")
    .action(async (options: { projectName?: string; session?: string; json?: boolean }) => {
      const rows = await listServices(createCliEngine(globals()), {
        ...(options.projectName ? { project: options.projectName } : {}),
        ...(options.session ? { session: options.session } : {}),
      });
      writeListing(rows, {
        json: options.json,
        empty: "No berth environments.",
        headers: ["PROJECT", "SERVICE", "STATE", "HEALTH", "PORTS", "MEMORY", "SESSION"],
        row: (r) => [
          r.project,
          r.service,
          r.state,
          r.health ?? "-",
          r.endpoints.map((e) => `${e.address}->${e.containerPort}/${e.protocol}`).join(", ") || "-",
          r.memoryLimitBytes ? formatSize(r.memoryLimitBytes) : "-",
          `${r.session}${r.detached ? " (detached)" : ""}`,
        ],
      });
    });
}
