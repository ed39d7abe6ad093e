// `berth doctor`: the endpoint berth chose and why, the engine behind it, and the capabilities
// berth needs there with pass/warn/fail. Exit 3 when the engine cannot be reached, 1 when a check
// failed.
import type { Command } from "commander";
import { runDoctor } from "../../doctor/doctor.js";
import { doctorExitCode, renderDoctor } from "../../doctor/report.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { writeJSON } from "../output.js";

export function registerDoctor(program: Command, globals: () => GlobalOptions): void {
  program
    .command("doctor")
    .description("Show which Docker endpoint berth uses and why, the engine, and what works there")
    .option("--json", "print one JSON object")
    .option("--no-checks", "only the endpoint and the engine's facts; create no container")
    .action(async (options: { json?: boolean; checks: boolean }) => {
      const report = await runDoctor(createCliEngine(globals()), { skipChecks: !options.checks });
      if (options.json) writeJSON(report);
      else process.stdout.write(renderDoctor(report));
      process.exitCode = doctorExitCode(report);
    });
}
