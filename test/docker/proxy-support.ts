// Helpers for the proxy's real-client tests: a proxy on a private socket, the docker CLI and
// Compose run with DOCKER_HOST pointing at it, a pseudo-terminal for `-it`, and run labels.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { type ProxyOptions, type RunningProxy, startProxy } from "../../src/proxy/server.js";

export interface TestProxy {
  proxy: RunningProxy;
  socketPath: string;
  /** Environment for clients: DOCKER_HOST at the proxy. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startTestProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const dir = mkdtempSync(join(tmpdir(), "berth-proxy-test-"));
  const socketPath = join(dir, "proxy.sock");
  const proxy = await startProxy({
    listen: `unix://${socketPath}`,
    upstream: "unix:///var/run/docker.sock",
    ...options,
  });
  return {
    proxy,
    socketPath,
    env: { ...process.env, DOCKER_HOST: proxy.dockerHost, DOCKER_CLI_HINTS: "false" },
    stop: async () => {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and answers its exit code and output; never throws for a failure. */
export function run(
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string },
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        env: options.env,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
        cwd: options.cwd,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

export const docker = (args: string[], options: Parameters<typeof run>[2]) => run("docker", args, options);

/** Runs `command` on a pseudo-terminal (util-linux `script`), as `docker ... -it` needs. */
export function onTty(
  command: string,
  options: { env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
  return run("script", ["-qfec", command, "/dev/null"], options);
}

/** `--label berth.suite=<run>` for every resource the docker CLI creates in a test. */
export function suiteLabelArgs(): string[] {
  return ["--label", `berth.suite=${inject("suiteId")}`];
}

/** Starts a long-running command and answers its output so far when stopped. */
export function follow(file: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  const arrivals: number[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    arrivals.push(performance.now());
  });
  return {
    output: () => stdout,
    stop: async (): Promise<{ stdout: string; arrivals: number[] }> => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
      return { stdout, arrivals };
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request to a unix socket, answering status, headers and body text. */
export function http(
  socketPath: string,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: options.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}
