// A second, private dockerd for tests that must not disturb the shared daemon (exhausting address
// pools, stopping the daemon): its own data and exec roots, pid file and socket under one temp
// directory, no default bridge, no iptables, its own containerd, and a small default address pool.
// `stop()` removes what was created on it, stops it, and deletes its directory.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.js";
import { listResources } from "../../src/janitor/inventory.js";
import { removeResources } from "../../src/janitor/remove.js";

export interface PrivateDaemonOptions {
  /** The only default address pool (`--default-address-pool`); default a random 10.213.X.0/26 cut in /28s. */
  addressPool?: { base: string; size: number };
  /** More dockerd flags. */
  extraArgs?: string[];
  /** How long to wait for the daemon to answer (ms, default 60 s). */
  startTimeoutMs?: number;
}

export interface PrivateDaemon {
  dir: string;
  dockerHost: string;
  engine: Engine;
  pid: number;
  addressPool: { base: string; size: number };
  /** The daemon's log so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Why a private daemon cannot run here, or undefined when it can. */
export function privateDaemonUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root";
  const path = (process.env.PATH ?? "").split(":").find((dir) => existsSync(join(dir, "dockerd")));
  return path ? undefined : "dockerd is not on PATH";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!exited(child)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** Processes whose command line names our directory: the daemon's own containerd and shims. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(dir)) pids.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((mountPoint) => mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

export async function startPrivateDaemon(options: PrivateDaemonOptions = {}): Promise<PrivateDaemon> {
  const dir = mkdtempSync("/tmp/berth-pool-");
  const socket = `${dir}.sock`;
  const dockerHost = `unix://${socket}`;
  const addressPool = options.addressPool ?? {
    base: `10.213.${Math.floor(Math.random() * 256)}.0/26`,
    size: 28,
  };
  const config = join(dir, "daemon.json");
  writeFileSync(config, "{}\n");
  const logFile = join(dir, "dockerd.log");
  const logFd = openSync(logFile, "a");
  const child = spawn(
    "dockerd",
    [
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "--pidfile",
      join(dir, "dockerd.pid"),
      "--host",
      dockerHost,
      "--config-file",
      config,
      "--bridge=none",
      "--iptables=false",
      "--ip-masq=false",
      "--ip-forward=false",
      "--storage-driver=vfs",
      `--containerd-namespace=berth-private-${dir.slice(-6)}`,
      `--containerd-plugins-namespace=berth-private-${dir.slice(-6)}-plugins`,
      "--default-address-pool",
      `base=${addressPool.base},size=${addressPool.size}`,
      ...(options.extraArgs ?? []),
    ],
    { stdio: ["ignore", logFd, logFd] },
  );
  closeSync(logFd);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const engine = new Engine({ dockerHost });

  const stop = async () => {
    if (!exited(child)) {
      // Bridge networks are Linux bridges in the host's namespace: remove them before the daemon goes.
      const leftovers = await listResources(engine).catch(() => []);
      await removeResources(engine, leftovers, { maxGraceSeconds: 5 }).catch(() => []);
      child.kill("SIGTERM");
      if (!(await waitForExit(child, 20_000))) child.kill("SIGKILL");
      await waitForExit(child, 5_000);
    }
    for (const pid of processesUsing(dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    for (const mountPoint of mountsUnder(dir)) spawnSync("umount", ["-l", mountPoint], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
    rmSync(socket, { force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited(child)) {
      const tail = log().split("\n").slice(-20).join("\n");
      await stop();
      throw new Error(`private dockerd exited during start-up:\n${tail}`);
    }
    try {
      await engine.ping();
      break;
    } catch {
      if (Date.now() > deadline) {
        const tail = log().split("\n").slice(-20).join("\n");
        await stop();
        throw new Error(
          `private dockerd did not answer within ${options.startTimeoutMs ?? 60_000} ms:\n${tail}`,
        );
      }
      await sleep(200);
    }
  }
  return { dir, dockerHost, engine, pid: child.pid!, addressPool, log, stop };
}
