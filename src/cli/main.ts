// The `berth` command line: parses arguments, calls the library, renders the result.
import { Command, CommanderError } from "commander";
import { registerFixtures } from "./commands/fixtures.js";
import { registerRm } from "./commands/rm.js";
import type { GlobalOptions } from "./context.js";
import { EXIT, exitCodeFor, formatError } from "./output.js";

export function buildProgram(): Command {
  const program = new Command("berth")
    .description("Real Docker environments for test suites, without hurting the Docker daemon")
    .option("-v, --verbose", "log every engine call and print metrics at the end")
    .exitOverride()
    .showHelpAfterError();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  registerRm(program, globals);
  registerFixtures(program, globals);
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
