// The `berth` command line: parses arguments, calls the library, renders the result.
import { Command, CommanderError } from "commander";
import { berthVersion } from "../shared/version.js";
import { registerConfig } from "./commands/config.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerDown } from "./commands/down.js";
import { registerFixtures } from "./commands/fixtures.js";
import { registerGc } from "./commands/gc.js";
import { registerLeaks } from "./commands/leaks.js";
import { registerLint } from "./commands/lint.js";
import { registerLogs } from "./commands/logs.js";
import { registerProxy } from "./commands/proxy.js";
import { registerPs } from "./commands/ps.js";
import { registerReport } from "./commands/report.js";
import { registerRm } from "./commands/rm.js";
import { registerRun } from "./commands/run.js";
import { registerStats } from "./commands/stats.js";
import { registerUp } from "./commands/up.js";
import { registerValidate } from "./commands/validate.js";
import type { GlobalOptions } from "./context.js";
import { EXIT, exitCodeFor, formatError } from "./output.js";

export function buildProgram(): Command {
  const program = new Command("berth")
    .description("Real Docker environments for test suites, without hurting the Docker daemon")
    .version(berthVersion(), "-V, --version", "print berth's version")
    .option("-v, --verbose", "log every engine call and print metrics at the end")
    .exitOverride()
    .showHelpAfterError();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  registerRm(program, globals);
  registerUp(program, globals);
  registerDown(program, globals);
  registerPs(program, globals);
  registerLogs(program, globals);
  registerRun(program, globals);
  registerStats(program, globals);
  registerLint(program, globals);
  registerFixtures(program, globals);
  registerGc(program, globals);
  registerLeaks(program, globals);
  registerProxy(program, globals);
  registerValidate(program, globals);
  registerReport(program, globals);
  registerConfig(program, globals);
  registerDoctor(program, globals);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else commander refuses is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`${formatError(error)}\n`);
    return exitCodeFor(error);
  }
}
