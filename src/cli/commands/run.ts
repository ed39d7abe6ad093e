// `berth run [-f FILE...] [-p P] -- COMMAND [ARGS...]`: the one-line CI form. Brings the
// environment up, runs the command with the endpoints in its environment, and takes the
// environment down whatever happens (the command fails, up fails, Ctrl-C, SIGTERM). Exits with
// the command's exit code. The command sees the endpoints (API_8080=127.0.0.1:49153),
// BERTH_PROJECT, BERTH_SESSION and BERTH_ENVIRONMENT (read back with environmentFromEnv()).
// With --keep the environment stays up after the command, for debugging, until `berth down`.
// While the command runs, every service that dies, is OOM-killed or turns unhealthy is reported
// on stderr at once, and a summary of them ends the run.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Command } from "commander";
import type { Engine } from "../../engine/engine.js";
import type { StartedEnvironment } from "../../stack/environment.js";
import { environmentVariables } from "../../stack/environment-variables.js";
import { UpInterruptedError } from "../../stack/errors.js";
import { createReporter } from "../../stack/progress/reporter.js";
import { up } from "../../stack/up.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { reportIncidentSummary, reportIncidents } from "../incidents.js";
import { EXIT, exitCodeFor, formatError } from "../output.js";
import { addEnvironmentOptions, type EnvironmentCliOptions, upOptionsFrom } from "./up.js";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** The exit code a shell would report: the command's own, or 128 + the signal that ended it. */
export function shellExitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal) return 128 + (constants.signals[signal] ?? 0);
  return EXIT.failure;
}

function runCommand(
  command: string[],
  env: Record<string, string>,
  onChild: (kill: (signal: NodeJS.Signals) => void) => void,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: "inherit", env: { ...process.env, ...env } });
    onChild((signal) => child.kill(signal));
    child.once("error", (error: NodeJS.ErrnoException) => {
      process.stderr.write(`berth: cannot run ${command[0]}: ${error.code ?? error.message}\n`);
      resolve(error.code === "ENOENT" ? 127 : 126);
    });
    child.once("exit", (code, signal) => resolve(shellExitCode(code, signal)));
  });
}

/** `--keep`: the environment stays for debugging; say how to reach it and take it down. */
function reportKept(env: StartedEnvironment): void {
  process.stderr.write(
    `berth: kept project ${env.project} (session ${env.session}) for debugging; take it down with: berth down -p ${env.project} --volumes\n`,
  );
}

async function takeDown(env: StartedEnvironment, json: boolean): Promise<boolean> {
  const reporter = await createReporter({ json });
  try {
    await env.down({ onProgress: reporter.listener });
    await reporter.finish();
    return true;
  } catch (error) {
    await reporter.finish();
    process.stderr.write(`${formatError(error)}\n`);
    return false;
  }
}

export function registerRun(program: Command, globals: () => GlobalOptions): void {
  addEnvironmentOptions(
    program
      .command("run")
      .description(
        "Bring an environment up, run a command with its endpoints in the environment, then take it down",
      )
      .argument("<command...>", "the command and its arguments, after --"),
  )
    .option("--json", "progress as JSON lines on stderr")
    .option(
      "--keep",
      "leave the environment up after the command, for debugging (no reaper, gc leaves it alone); take it down with berth down",
    )
    .action(async (command: string[], options: EnvironmentCliOptions & { keep?: boolean }) => {
      const engine: Engine = createCliEngine(globals());
      const controller = new AbortController();
      let kill: ((signal: NodeJS.Signals) => void) | undefined;
      let cleaning = false;
      let interrupted: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals) => {
        interrupted ??= signal;
        if (cleaning) {
          process.stderr.write("berth: still taking the environment down; please wait\n");
          return;
        }
        // The command may have had the signal from the terminal already; forwarding it is what
        // npm and docker do, and covers a signal sent to berth alone (CI runners, kill).
        if (kill) kill(signal);
        else controller.abort();
      };
      for (const signal of FORWARDED) process.on(signal, onSignal);
      try {
        const reporter = await createReporter({ json: options.json === true });
        let env: StartedEnvironment;
        try {
          env = await up({
            ...(await upOptionsFrom(options)),
            keep: options.keep === true,
            engine,
            onProgress: reporter.listener,
            signal: controller.signal,
          });
        } catch (error) {
          await reporter.finish();
          process.stderr.write(`${formatError(error)}\n`);
          process.exitCode =
            error instanceof UpInterruptedError && interrupted
              ? shellExitCode(null, interrupted)
              : exitCodeFor(error);
          return;
        }
        await reporter.finish();
        // The environment watches its services from the moment up answers; print what came in
        // while the progress display finished, then each incident as it happens.
        const json = options.json === true;
        reportIncidents(env, json);
        // runCommand never rejects: whatever the command does, the environment goes down after it.
        let code = interrupted
          ? shellExitCode(null, interrupted)
          : await runCommand(command, environmentVariables(env), (k) => {
              kill = k;
            });
        cleaning = true;
        // Stop watching before down, so the environment's own stops are not reported as deaths.
        await env.stopWatching();
        if (options.keep) reportKept(env);
        else if (!(await takeDown(env, options.json === true)) && code === 0) code = EXIT.failure;
        reportIncidentSummary(env.incidents, json);
        process.exitCode = code;
      } finally {
        for (const signal of FORWARDED) process.off(signal, onSignal);
      }
    });
}
