// `berth port SERVICE PORT`: the host address a service's container port is published on, as
// `docker compose port` prints it (`127.0.0.1:49153`).
import type { Command } from "commander";
import { findEndpoint } from "../../stack/endpoints.js";
import { findServiceContainer } from "../../stack/status.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { parsePositiveInt } from "../parse.js";
import { selectProject, withSelectionOptions } from "../project-selection.js";

interface PortCliOptions {
  projectName?: string;
  session?: string;
  file: string[];
  protocol: string;
  index?: number;
}

export function registerPort(program: Command, globals: () => GlobalOptions): void {
  withSelectionOptions(
    program
      .command("port")
      .description("Print the host address a service's container port is published on")
      .argument("<service>", "the service")
      .argument("<port>", "the container port", parsePositiveInt)
      .option("--protocol <protocol>", "tcp or udp", "tcp")
      .option("--index <n>", "the replica (default 1)", parsePositiveInt),
  ).action(async (service: string, port: number, options: PortCliOptions) => {
    const engine = createCliEngine(globals());
    const selector = await selectProject(engine, options);
    const name = options.index && options.index > 1 ? `${service}-${options.index}` : service;
    const found = await findServiceContainer(engine, name, selector ?? {});
    const protocol = options.protocol === "udp" ? "udp" : "tcp";
    process.stdout.write(`${findEndpoint(found.endpoints, name, port, protocol).address}\n`);
  });
}
