// `berth rm`: a safe replacement for `docker rm -f`.
import type { Command } from "commander";
import { type RemovalRecord, safeRemove } from "../../lifecycle/safe-remove.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { EXIT, errorToJSON, formatError, writeJSON } from "../output.js";
import { parseSeconds } from "../parse.js";

function describe(record: RemovalRecord): string {
  const how = {
    exited: `stopped by ${record.stopSignal} (exit ${record.exitCode})`,
    "killed-after-grace": `killed after the ${record.graceSeconds}s grace period (exit ${record.exitCode})`,
    "was-stopped": `was already stopped (exit ${record.exitCode})`,
    "already-removed": "was already removed",
  }[record.outcome];
  return `${record.name ?? record.container}: ${how}; removed in ${(record.totalMs / 1000).toFixed(2)}s`;
}

export function registerRm(program: Command, globals: () => GlobalOptions): void {
  program
    .command("rm")
    .description("Safely stop and remove containers: stop signal, grace period, remove without force, verify")
    .argument("<container...>", "container names or ids")
    .option(
      "--grace <seconds>",
      "grace period before the daemon sends SIGKILL (default: the container's StopTimeout, else 10)",
      parseSeconds,
    )
    .option("--json", "print one JSON line per container")
    .action(async (containers: string[], options: { grace?: number; json?: boolean }) => {
      const engine = createCliEngine(globals());
      const results = await Promise.allSettled(
        containers.map((container) => safeRemove(engine, container, { graceSeconds: options.grace })),
      );
      let exitCode: number = EXIT.ok;
      results.forEach((result, index) => {
        const container = containers[index]!;
        if (result.status === "fulfilled") {
          if (options.json) writeJSON({ ok: true, ...result.value });
          else process.stdout.write(`${describe(result.value)}\n`);
        } else {
          exitCode = Math.max(exitCode, EXIT.failure);
          if (options.json) writeJSON({ ok: false, container, error: errorToJSON(result.reason) });
          else process.stderr.write(`${formatError(result.reason)}\n`);
          if (typeof (result.reason as { exitCode?: number }).exitCode === "number") {
            exitCode = Math.max(exitCode, (result.reason as { exitCode: number }).exitCode);
          }
        }
      });
      process.exitCode = exitCode;
    });
}
