// `berth config`: loads, merges and validates Compose files and prints the resolved model, like
// `docker compose config`. Nothing is created. Bad input exits 2 with the file, line and path.
import type { Command } from "commander";
import { stringify } from "yaml";
import { type LoadComposeOptions, loadCompose } from "../../stack/compose/index.js";
import type { GlobalOptions } from "../global-options.js";
import { failCommand, writeJSON } from "../output.js";
import { collect } from "../parse.js";

export interface ComposeFileOptions {
  file: string[];
  profile?: string[];
  envFile?: string[];
  projectDirectory?: string;
}

/** Adds `-f/--file`, `--profile` and `--env-file`, shared by the commands that read Compose files. */
export function addComposeFileOptions(command: Command): Command {
  return command
    .option(
      "-f, --file <file>",
      "Compose file; repeat to merge several in order (default: compose.yaml)",
      collect,
      [],
    )
    .option(
      "--profile <name>",
      "activate a profile; repeat for several (default: $COMPOSE_PROFILES)",
      collect,
    )
    .option(
      "--env-file <file>",
      "read interpolation variables from FILE instead of .env (repeatable)",
      collect,
    )
    .option("--project-directory <dir>", "directory relative paths start from (default: the first file's)");
}

export function composeLoadOptions(options: ComposeFileOptions): LoadComposeOptions {
  const load: LoadComposeOptions = { files: options.file };
  if (options.profile) load.profiles = options.profile;
  if (options.envFile && options.envFile.length > 0) load.envFile = options.envFile;
  if (options.projectDirectory) load.projectDirectory = options.projectDirectory;
  return load;
}

/** The model without source locations, which matter to messages but clutter a printed config. */
function withoutLocations(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, item) => (key === "location" || key === "unsupported" ? undefined : item)),
  );
}

export function registerConfig(program: Command, _globals: () => GlobalOptions): void {
  addComposeFileOptions(
    program
      .command("config")
      .description("Validate Compose files and print the resolved model (creates nothing)"),
  )
    .option("--json", "print {ok, project, warnings} as JSON, or {ok: false, error} on bad input")
    .option("--services", "print only the names of the enabled services")
    .action(async (options: ComposeFileOptions & { json?: boolean; services?: boolean }) => {
      let loaded: Awaited<ReturnType<typeof loadCompose>>;
      try {
        loaded = await loadCompose(composeLoadOptions(options));
      } catch (error) {
        failCommand(error, options.json);
        return;
      }
      const { project, warnings } = loaded;
      if (options.json) {
        writeJSON({ ok: true, project, warnings });
        return;
      }
      for (const warning of warnings) process.stderr.write(`berth: warning: ${warning}\n`);
      if (options.services) {
        process.stdout.write(`${Object.keys(project.services).join("\n")}\n`);
        return;
      }
      process.stdout.write(stringify(withoutLocations(project), { lineWidth: 0 }));
    });
}
