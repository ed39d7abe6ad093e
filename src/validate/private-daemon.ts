// A private dockerd for scenarios that must change the daemon itself (a tiny address pool),
// started beside the real one with its own sockets and directories, and torn down completely:
// its networks removed, the process stopped, bridges it left deleted, its directory removed.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../engine/engine.js";
import { ScenarioSkipped } from "./scenario.js";

export interface PrivateDaemon {
  readonly dockerHost: string;
  /** An unguarded engine for the private daemon (the scenario guards what it validates). */
  readonly engine: Engine;
  /** The last lines of the daemon's log, for evidence when something goes wrong. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface PrivateDaemonOptions {
  /** `--default-address-pool` value, e.g. `base=10.213.7.0/26,size=28` (4 networks). */
  addressPool: string;
  startTimeoutMs?: number;
}

const PREDEFINED_NETWORKS = new Set(["bridge", "host", "none"]);

function findDockerd(): string | undefined {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin").split(":").concat(["/usr/sbin", "/usr/bin"])) {
    const candidate = join(dir, "dockerd");
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Deletes the Linux bridges (`br-<id12>`) the daemon made for these networks, if it left them. */
function deleteBridges(networkIds: string[]): void {
  for (const id of networkIds) {
    try {
      execFileSync("ip", ["link", "delete", `br-${id.slice(0, 12)}`], { stdio: "ignore" });
    } catch {
      // Already gone (the daemon removed it with its network), or no `ip` tool: nothing to do.
    }
  }
}

export async function startPrivateDaemon(options: PrivateDaemonOptions): Promise<PrivateDaemon> {
  const dockerd = findDockerd();
  if (!dockerd) throw new ScenarioSkipped("no dockerd binary on this machine to start a private daemon with");
  if (process.getuid?.() !== 0) throw new ScenarioSkipped("starting a private dockerd needs root");
  const dir = mkdtempSync(join(tmpdir(), "berth-dockerd-"));
  const socket = join(dir, "docker.sock");
  const logFile = join(dir, "dockerd.log");
  const child = spawn(
    "sh",
    [
      "-c",
      'exec "$0" "$@" >"$BERTH_DOCKERD_LOG" 2>&1',
      dockerd,
      `--data-root=${join(dir, "root")}`,
      `--exec-root=${join(dir, "exec")}`,
      `--pidfile=${join(dir, "dockerd.pid")}`,
      `--host=unix://${socket}`,
      "--bridge=none",
      "--iptables=false",
      "--ip-masq=false",
      "--storage-driver=vfs",
      `--default-address-pool=${options.addressPool}`,
    ],
    { stdio: "ignore", env: { ...process.env, BERTH_DOCKERD_LOG: logFile } },
  );
  const engine = new Engine({ dockerHost: `unix://${socket}` });
  const known = new Set<string>();
  const logTail = (lines = 20) => {
    try {
      return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  };
  const stop = async () => {
    try {
      const networks = await engine.listNetworks();
      for (const n of networks) {
        if (PREDEFINED_NETWORKS.has(n.Name)) continue;
        known.add(n.Id);
        await engine.removeNetwork(n.Id).catch(() => {});
      }
    } catch {
      // The daemon is not answering; the bridges are deleted below by what we knew of.
    }
    child.kill("SIGTERM");
    if (!(await waitForExit(child, 15_000))) {
      child.kill("SIGKILL");
      await waitForExit(child, 5_000);
    }
    deleteBridges([...known]);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  for (;;) {
    try {
      await engine.ping();
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const tail = logTail();
        await stop();
        throw new Error(`the private dockerd did not start: ${(error as Error).message}\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return {
    dockerHost: `unix://${socket}`,
    engine,
    logTail,
    stop: async () => {
      for (const n of await engine.listNetworks().catch(() => [])) known.add(n.Id);
      await stop();
    },
  };
}
