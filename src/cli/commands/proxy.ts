// `berth proxy`: a Docker API socket that gives every client the limiter, graceful removal, an
// optional policy and metrics. Prints the DOCKER_HOST line to use, runs until SIGINT/SIGTERM.
import type { Command } from "commander";
import { isLoopback, parseListenAddress } from "../../proxy/listen-address.js";
import type { ProxyLogEntry } from "../../proxy/proxy-context.js";
import { defaultListenAddress, startProxy } from "../../proxy/server.js";
import type { GlobalOptions } from "../global-options.js";
import { parseSeconds } from "../parse.js";

interface ProxyCommandOptions {
  listen?: string;
  upstream?: string;
  policy?: string;
  jsonLog?: boolean;
  rewrite: boolean;
  allowRemote?: boolean;
  maxGrace?: number;
  drainTimeout: number;
}

function readableLine(e: ProxyLogEntry): string {
  const ms = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(1)}ms`);
  const queued = e.queuedMs && e.queuedMs >= 1 ? ` queued ${ms(e.queuedMs)}` : "";
  const note = e.note ? `  ${e.note}` : "";
  return `${e.time} ${e.status} ${e.method} ${e.url} ${e.class ?? "-"} ${ms(e.durationMs)}${queued}${note}`;
}

/** Denials, rewrites and failures are worth a line even when the access log is off. */
const notable = (e: ProxyLogEntry) => e.note !== undefined && e.status !== 499;

export function registerProxy(program: Command, globals: () => GlobalOptions): void {
  program
    .command("proxy")
    .description(
      "Run a Docker API socket proxy: every client shares the limiter, force removals become graceful, optional policy",
    )
    .option(
      "--listen <address>",
      "unix:///PATH or tcp://127.0.0.1:PORT (default: unix socket in the user's runtime dir)",
    )
    .option(
      "--upstream <docker-host>",
      "the daemon to relay to (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    )
    .option(
      "--policy <file>",
      "deny privileged containers, host namespaces, bind mounts, endpoint groups (YAML/JSON)",
    )
    .option("--json-log", "log every request as a JSON line on stderr")
    .option(
      "--no-rewrite",
      "relay `DELETE /containers/{id}?force=1` unchanged instead of removing gracefully",
    )
    .option(
      "--allow-remote",
      "allow a TCP address that is not loopback (anyone who reaches it controls the daemon)",
    )
    .option("--max-grace <seconds>", "cap the grace period of rewritten removals", parseSeconds)
    .option(
      "--drain-timeout <seconds>",
      "on shutdown, how long requests and streams may finish",
      parseSeconds,
      5,
    )
    .action(async (options: ProxyCommandOptions) => {
      const verbose = globals().verbose ?? false;
      const listen = options.listen ?? defaultListenAddress(process.env, "proxy.sock");
      const address = parseListenAddress(listen, { allowRemote: options.allowRemote });
      if (address.kind === "tcp" && !isLoopback(address.host)) {
        process.stderr.write(
          `berth proxy: WARNING: listening on ${address.host}: anyone who can reach this port controls the Docker daemon.\n`,
        );
      }
      const write = (e: ProxyLogEntry) => {
        if (options.jsonLog) process.stderr.write(`${JSON.stringify(e)}\n`);
        else if (verbose || notable(e)) process.stderr.write(`${readableLine(e)}\n`);
      };
      const proxy = await startProxy({
        listen,
        allowRemote: options.allowRemote,
        upstream: options.upstream,
        policy: options.policy,
        rewriteForceRemoval: options.rewrite,
        maxGraceSeconds: options.maxGrace,
        drainTimeoutMs: options.drainTimeout * 1000,
        log: write,
      });
      process.stdout.write(`DOCKER_HOST=${proxy.dockerHost}\n`);
      process.stderr.write(
        `berth proxy: relaying to ${proxy.upstream}; force removals ${options.rewrite ? "made graceful" : "relayed as sent"}; policy ${options.policy ?? "off"}. Metrics: GET /_berth/metrics. Stop with Ctrl-C.\n`,
      );
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      });
      process.stderr.write(`berth proxy: ${signal}: finishing requests (up to ${options.drainTimeout}s)\n`);
      await proxy.close();
      if (verbose) process.stderr.write(`${JSON.stringify(proxy.metrics())}\n`);
    });
}
