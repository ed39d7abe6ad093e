// `berth exec [-T] SERVICE COMMAND...`: runs a command in a service's container attached to this
// terminal, as `docker compose exec` does, and exits with its exit code. Standard input is always
// forwarded; a pseudo-terminal is allocated when standard input is one, unless `-T`. Options of
// the command itself may follow it; put `--` before a command whose options berth exec would
// take (-u, -e).
import type { Command } from "commander";
import { findServiceContainer } from "../../stack/status.js";
import { runAttachedExec } from "../attached-exec.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { collect } from "../parse.js";
import { selectProject, withSelectionOptions } from "../project-selection.js";

interface ExecCliOptions {
  projectName?: string;
  session?: string;
  file?: string[];
  user?: string;
  workdir?: string;
  env: string[];
  /** false with -T. */
  tty: boolean;
}

export function registerExec(program: Command, globals: () => GlobalOptions): void {
  withSelectionOptions(
    program
      .command("exec")
      .description(
        "Run a command in a service's container, attached to this terminal, and exit with its code",
      )
      .argument("<service>", "the service (a replica: NAME-K)")
      .argument("<command...>", "the command and its arguments")
      .option(
        "-T, --no-tty",
        "no pseudo-terminal (default: one when stdin is a terminal); stdin is still forwarded",
      ),
  )
    .option("-u, --user <user>", "run as this user")
    .option("-w, --workdir <dir>", "run in this directory")
    .option("-e, --env <NAME=value>", "set an environment variable (repeatable)", collect, [])
    .allowUnknownOption()
    .action(async (service: string, command: string[], options: ExecCliOptions) => {
      const engine = createCliEngine(globals());
      const selector = await selectProject(engine, options);
      const found = await findServiceContainer(engine, service, selector ?? {});
      process.exitCode = await runAttachedExec(engine, found.containerId, command, {
        tty: options.tty && process.stdin.isTTY === true,
        ...(options.env.length > 0 ? { env: options.env } : {}),
        ...(options.user ? { user: options.user } : {}),
        ...(options.workdir ? { workingDir: options.workdir } : {}),
      });
    });
}
