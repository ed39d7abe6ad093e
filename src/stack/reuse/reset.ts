// The reset before a reused environment is handed over: each service's `x-berth.reset`
// commands, run in its container with exec, one after another, each within a timeout. A
// command that fails or hangs stops the reset with its output in the message.
import type { Engine } from "../../engine/engine.js";
import { BerthError } from "../../engine/errors.js";
import type { ComposeProject } from "../../model/compose.js";

/** Per command unless the service's `x-berth.timeout` says otherwise. */
const DEFAULT_RESET_TIMEOUT_MS = 60_000;

export class ResetFailedError extends BerthError {
  override readonly code = "BERTH_RESET_FAILED";
}

function quoted(command: string[]): string {
  return command[0] === "/bin/sh" && command[1] === "-c" && command.length === 3
    ? command[2]!
    : command.join(" ");
}

function tail(text: string, lines = 20): string {
  return text
    .trimEnd()
    .split("\n")
    .slice(-lines)
    .map((l) => `    | ${l}`)
    .join("\n");
}

/** Runs every service's reset commands; `containers` maps service name to container id. */
export async function resetEnvironment(
  engine: Engine,
  project: ComposeProject,
  containers: Map<string, string>,
): Promise<{ commands: number }> {
  let commands = 0;
  for (const service of Object.values(project.services)) {
    const id = containers.get(service.name);
    if (!id) continue;
    for (const command of service.berth.reset ?? []) {
      const timeoutMs = service.berth.timeoutMs ?? DEFAULT_RESET_TIMEOUT_MS;
      let result: Awaited<ReturnType<Engine["exec"]>>;
      try {
        result = await engine.exec(id, command, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        const why =
          (error as Error).name === "TimeoutError" || (error as { code?: string }).code === "BERTH_ABORTED"
            ? `did not finish within ${timeoutMs / 1000} s`
            : `could not run: ${(error as Error).message}`;
        throw new ResetFailedError(`Reset of service ${service.name}: \`${quoted(command)}\` ${why}`, {
          resource: service.name,
          cause: error,
        });
      }
      commands++;
      if (result.exitCode !== 0) {
        const output = `${result.stdout}${result.stderr}`;
        throw new ResetFailedError(
          `Reset of service ${service.name}: \`${quoted(command)}\` exited with code ${result.exitCode}${output.trim() ? `:\n${tail(output)}` : " and printed nothing"}`,
          { resource: service.name, hint: "Fix the service's x-berth.reset commands." },
        );
      }
    }
  }
  return { commands };
}
