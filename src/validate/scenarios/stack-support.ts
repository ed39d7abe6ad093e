// Bringing a small Compose project up from a scenario, the way users do: a compose file on disk,
// `up` through the run's guarded engine, `down` afterwards (also when the scenario fails).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { containerName } from "../../model/container-name.js";
import type { StartedEnvironment } from "../../stack/environment.js";
import { projectInventory } from "../../stack/inventory.js";
import { type UpOptions, up } from "../../stack/up.js";
import { check, checkRejects, type ScenarioContext } from "../scenario.js";

interface ComposeRun {
  project: string;
  file: string;
  dir: string;
}

/** Writes `yaml` as compose.yml in a fresh directory; the project name is unique to the run. */
export function composeFile(ctx: ScenarioContext, prefix: string, yaml: string): ComposeRun {
  const dir = ctx.tempDir();
  const file = join(dir, "compose.yml");
  writeFileSync(file, yaml.replaceAll("__IMAGE__", ctx.image));
  return { project: ctx.name(prefix), file, dir };
}

export async function upCompose(
  ctx: ScenarioContext,
  run: ComposeRun,
  options: Partial<UpOptions> = {},
): Promise<StartedEnvironment> {
  const env = await up({
    files: [run.file],
    cwd: run.dir,
    project: run.project,
    engine: ctx.engine,
    env: {},
    serviceTimeoutMs: 30_000,
    timeoutMs: 60_000,
    signal: ctx.signal,
    ...options,
  });
  ctx.defer(() => env.down({ timeoutSeconds: 2 }));
  return env;
}

/** Runs an `up` that must fail; records the first lines of its error as evidence and answers it. */
export async function upFails(
  ctx: ScenarioContext,
  run: ComposeRun,
  what: string,
  options: Partial<UpOptions> = {},
): Promise<unknown> {
  const error = await checkRejects(() => upCompose(ctx, run, options), what);
  ctx.observe(
    "upError",
    String((error as Error)?.message ?? error)
      .split("\n")
      .slice(0, 6)
      .join("\n"),
  );
  return error;
}

/** Asserts that nothing of the project exists (after a failed up, its rollback must have run). */
export async function checkNothingLeft(ctx: ScenarioContext, project: string): Promise<number> {
  const left = await projectInventory(ctx.engine, { project });
  const count = left.containers.length + left.networks.length + left.volumes.length;
  check(count === 0, `${count} resource(s) of project ${project} were left after the failed up`, {
    expected: 0,
    actual: [
      ...left.containers.map((c) => `container ${containerName(c)}`),
      ...left.networks.map((n) => `network ${n.Name}`),
      ...left.volumes.map((v) => `volume ${v.Name}`),
    ],
  });
  return count;
}

/** The first line of an error message, for evidence. */
export function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0]!;
}
