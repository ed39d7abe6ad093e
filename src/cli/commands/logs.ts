// `berth logs [SERVICE...]`: the output of an environment's services, interleaved in time order
// with a `service |` prefix like Compose; `-f` follows until Ctrl-C or every container ends.
import type { Command } from "commander";
import type { Engine } from "../../engine/engine.js";
import { NotFoundError } from "../../engine/errors.js";
import { listServices, type ServiceStatus } from "../../stack/status.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { interleave, parseSince, parseTimestamped, renderLine, renderLines } from "../log-lines.js";
import { collect, parsePositiveInt } from "../parse.js";
import { selectProject } from "../project-selection.js";

interface LogsCliOptions {
  projectName?: string;
  session?: string;
  file?: string[];
  follow?: boolean;
  tail?: number;
  since?: string;
  timestamps?: boolean;
  logPrefix?: boolean;
}

async function containersFor(
  engine: Engine,
  services: string[],
  options: LogsCliOptions,
): Promise<ServiceStatus[]> {
  const selector = await selectProject(engine, options);
  let rows = await listServices(engine, selector ?? {});
  if (services.length > 0) {
    const missing = services.filter((s) => !rows.some((r) => r.service === s));
    if (missing.length > 0) {
      throw new NotFoundError(
        `No berth service ${missing.join(", ")}${selector ? "" : " in any environment"}`,
        {
          resource: missing.join(","),
          hint: "`berth ps` lists the environments and their services.",
        },
      );
    }
    rows = rows.filter((r) => services.includes(r.service));
  }
  const projects = [...new Set(rows.map((r) => r.project))];
  if (!selector && projects.length > 1) {
    throw new NotFoundError(`The services are in several environments: ${projects.join(", ")}`, {
      hint: "Name one with -p PROJECT or --session ID.",
    });
  }
  if (rows.length === 0)
    throw new NotFoundError("No berth environment is running", { hint: "`berth ps` lists them." });
  return rows;
}

async function follow(
  engine: Engine,
  rows: ServiceStatus[],
  options: LogsCliOptions,
  since?: number,
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const width = Math.max(...rows.map((r) => r.service.length));
  try {
    await Promise.all(
      rows.map(async (row) => {
        const stream = await engine.followLogs(row.containerId, {
          tail: options.tail ?? "all",
          ...(since === undefined ? {} : { since }),
          timestamps: true,
          signal: controller.signal,
        });
        let rest = "";
        for await (const chunk of stream as AsyncIterable<Buffer | string>) {
          const text = rest + chunk.toString();
          const cut = text.lastIndexOf("\n");
          rest = text.slice(cut + 1);
          for (const line of parseTimestamped(row.service, text.slice(0, cut + 1))) {
            process.stdout.write(
              `${renderLine(line, { timestamps: options.timestamps, noPrefix: options.logPrefix === false, width })}\n`,
            );
          }
        }
      }),
    );
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

export function registerLogs(program: Command, globals: () => GlobalOptions): void {
  program
    .command("logs")
    .description("Print the output of services (default: all of the environment), interleaved in time order")
    .argument("[service...]", "only these services")
    .option(
      "-p, --project-name <name>",
      "the project (default: $COMPOSE_PROJECT_NAME, or the compose file's)",
    )
    .option("--session <id>", "the session")
    .option("--file <file>", "find the project of this Compose file (repeatable)", collect)
    .option("-f, --follow", "keep printing new output until Ctrl-C or every container ends")
    .option("--tail <lines>", "only the last N lines of each service", parsePositiveInt)
    .option(
      "--since <time>",
      "only output since a time (RFC 3339 or Unix seconds) or for a duration back (10m)",
    )
    .option("-t, --timestamps", "show the daemon's timestamp of each line")
    .option("--no-log-prefix", "leave out the `service |` prefix")
    .action(async (services: string[], options: LogsCliOptions) => {
      const engine = createCliEngine(globals());
      const rows = await containersFor(engine, services, options);
      const since = options.since === undefined ? undefined : parseSince(options.since);
      if (options.follow) {
        await follow(engine, rows, options, since);
        return;
      }
      const outputs = await Promise.all(
        rows.map(async (row) => {
          const { stdout, stderr } = await engine.containerLogs(row.containerId, {
            tail: options.tail ?? "all",
            ...(since === undefined ? {} : { since }),
            timestamps: true,
          });
          return [...parseTimestamped(row.service, stdout), ...parseTimestamped(row.service, stderr)];
        }),
      );
      process.stdout.write(
        renderLines(interleave(outputs.flat()), {
          timestamps: options.timestamps,
          noPrefix: options.logPrefix === false,
        }),
      );
    });
}
