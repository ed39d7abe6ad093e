// Which environment a command that acts on a running one means, found the way Compose finds a
// project: -p (or --session), else COMPOSE_PROJECT_NAME, else the project of the Compose file
// (-f, COMPOSE_FILE, or compose.yaml here): the running berth project named after the file's
// `name` (exactly, or with berth's per-run suffix). Without any of these: no selector.
import type { Command } from "commander";
import type { Engine } from "../engine/engine.js";
import { ConfigError, NotFoundError } from "../engine/errors.js";
import { findDefaultComposeFiles } from "../stack/compose/default-files.js";
import type { ProjectSelector } from "../stack/inventory.js";
import { sanitizeProjectBase } from "../stack/naming.js";
import { listServices } from "../stack/status.js";
import { collect } from "./parse.js";

/** The options that name a running environment: -p, --session, -f (`exec`, `port`). */
export function withSelectionOptions(command: Command): Command {
  return command
    .option(
      "-p, --project-name <name>",
      "the project (default: $COMPOSE_PROJECT_NAME, or the compose file's)",
    )
    .option("--session <id>", "the session")
    .option("-f, --file <file>", "find the project of this Compose file (repeatable)", collect, []);
}

interface SelectionOptions {
  projectName?: string;
  session?: string;
  file?: string[];
}

/** Running berth projects whose name is `base` or `base-XXXXXXXX` (berth's per-run suffix). */
export function projectsNamedAfter(base: string, projects: string[]): string[] {
  const suffixed = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[0-9a-f]{8}$`);
  return [...new Set(projects)].filter((p) => p === base || suffixed.test(p)).sort();
}

export async function selectProject(
  engine: Engine,
  options: SelectionOptions,
  env: Record<string, string | undefined> = process.env,
): Promise<ProjectSelector | undefined> {
  if (options.session) return { session: options.session };
  if (options.projectName) return { project: options.projectName };
  if (env.COMPOSE_PROJECT_NAME) return { project: env.COMPOSE_PROJECT_NAME };
  const files = options.file ?? [];
  if (files.length === 0 && !env.COMPOSE_FILE && findDefaultComposeFiles(process.cwd()).length === 0) {
    return undefined;
  }
  // Loaded only here: the Compose loader (YAML, the schema) is most of what `down -p` would load.
  const { loadCompose } = await import("../stack/compose/load.js");
  const { project } = await loadCompose({ files, env });
  const base = sanitizeProjectBase(project.name ?? "berth");
  const running = (await listServices(engine)).map((row) => row.project);
  const matches = projectsNamedAfter(base, running);
  if (matches.length === 1) return { project: matches[0]! };
  if (matches.length === 0) {
    throw new NotFoundError(`No running berth project of ${project.files.join(", ")} (named ${base})`, {
      resource: base,
      hint: "`berth ps` lists the running environments; name one with -p PROJECT.",
    });
  }
  throw new ConfigError(`Several running projects come from this file: ${matches.join(", ")}`, {
    resource: base,
    hint: "Name one with -p PROJECT.",
  });
}
