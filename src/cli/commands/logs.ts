// `berth logs SERVICE [-f]`: a service's output, optionally followed until Ctrl-C or its end.
import type { Command } from "commander";
import { findServiceContainer } from "../../stack/status.js";
import { createCliEngine, type GlobalOptions } from "../context.js";
import { parsePositiveInt } from "../parse.js";

interface LogsCliOptions {
  projectName?: string;
  session?: string;
  follow?: boolean;
  tail?: number;
}

export function registerLogs(program: Command, globals: () => GlobalOptions): void {
  program
    .command("logs")
    .description("Print a service's output (stdout and stderr)")
    .argument("<service>", "the service")
    .option("-p, --project-name <name>", "the project (needed when several have the service)")
    .option("--session <id>", "the session")
    .option("-f, --follow", "keep printing new output until Ctrl-C or the container ends")
    .option("--tail <lines>", "only the last N lines", parsePositiveInt)
    .action(async (service: string, options: LogsCliOptions) => {
      const engine = createCliEngine(globals());
      const found = await findServiceContainer(engine, service, {
        ...(options.projectName ? { project: options.projectName } : {}),
        ...(options.session ? { session: options.session } : {}),
      });
      const tail = options.tail ?? "all";
      if (!options.follow) {
        const { stdout, stderr } = await engine.containerLogs(found.containerId, { tail });
        process.stdout.write(stdout);
        process.stdout.write(stderr);
        return;
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        const stream = await engine.followLogs(found.containerId, { tail, signal: controller.signal });
        for await (const chunk of stream as AsyncIterable<Buffer | string>) process.stdout.write(chunk);
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });
}
