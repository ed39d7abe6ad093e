// The `berth` command line: parses arguments, calls the library, renders the result. Start-up
// loads only what the command at hand needs: nothing beyond this file for --version, one
// command's module (through the table in commands.ts) for a command.
import { berthVersion } from "../model/version.js";
import { COMMANDS, commandsFor } from "./commands.js";
import type { GlobalOptions } from "./global-options.js";

const VERSION_FLAGS = new Set(["-V", "--version"]);

async function buildProgram(args: readonly string[] = []) {
  const { Command } = await import("commander");
  const program = new Command("berth")
    .description("Real Docker environments for test suites, without hurting the Docker daemon")
    .version(berthVersion(), "-V, --version", "print berth's version")
    .option("-v, --verbose", "log every engine call and print metrics at the end")
    .exitOverride()
    .showHelpAfterError();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const registers = await Promise.all(commandsFor(args).map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program, globals);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  if (args.length === 1 && VERSION_FLAGS.has(args[0]!)) {
    process.stdout.write(`${berthVersion()}\n`);
    return 0;
  }
  const [{ CommanderError }, { EXIT, errorToJSON, exitCodeFor, formatError, writeJSON }] = await Promise.all([
    import("commander"),
    import("./output.js"),
  ]);
  try {
    const program = await buildProgram(args);
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    // With --json every failure is one JSON object on stdout, whatever the command.
    const json = args.includes("--json");
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else commander refuses is a usage error.
      if (error.exitCode === 0) return EXIT.ok;
      if (json)
        writeJSON({ ok: false, error: { name: "UsageError", code: "BERTH_USAGE", message: error.message } });
      return EXIT.usage;
    }
    if (json) writeJSON({ ok: false, error: errorToJSON(error) });
    else process.stderr.write(`${formatError(error)}\n`);
    return exitCodeFor(error);
  }
}
