// Helpers for the janitor's real-daemon tests: run a session owner as a child process and follow
// its step reports, and watch a session's resources until they are gone.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Engine } from "../../src/engine/engine.js";
import type { ResourceRef } from "../../src/janitor/errors.js";
import { listResources } from "../../src/janitor/inventory.js";
import { LABELS } from "../../src/model/labels.js";

export interface OwnerEvent {
  event: string;
  service?: string;
  pid?: number;
  watchdog?: number;
  session?: string;
  project?: string;
  reused?: boolean;
}

export interface OwnerProcess {
  child: ChildProcess;
  /** Lets the owner begin (it is started ahead, waiting, so its start-up cost stays out of the way). */
  go(): void;
  events: OwnerEvent[];
  /** Resolves with the first event matching, rejects if the owner exits first or time runs out. */
  waitFor(match: (e: OwnerEvent) => boolean, timeoutMs?: number): Promise<OwnerEvent>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/**
 * Starts test/docker/janitor-owner.ts with IMAGE SESSION MODE. The owner brings the services up
 * through the stack's `up` (as `berth up`/`run` do); `BERTH_TEST_OWNER=session` makes it use a
 * bare session instead, which isolates the reaper from the stack.
 */
export function startOwner(
  args: [image: string, session: string, mode: "kill" | "exit" | "detach"],
  env: Record<string, string> = {},
): OwnerProcess {
  const stack = process.env.BERTH_TEST_OWNER === "session" ? [] : ["--stack"];
  return startTestScript("janitor-owner.ts", [...args, ...stack], env);
}

/** Starts test/docker/SCRIPT (`node --import tsx`) and follows the JSON lines it prints. */
export function startTestScript(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): OwnerProcess {
  const script = join(process.cwd(), "test", "docker", name);
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const events: OwnerEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as OwnerEvent);
    } catch {
      return;
    }
    for (const wake of waiters) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters) wake();
    }),
  );
  const waitFor = (match: (e: OwnerEvent) => boolean, timeoutMs = 150_000) =>
    new Promise<OwnerEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`owner did not report the expected step in ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      const check = () => {
        const found = events.find(match);
        if (found || child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          waiters.delete(check);
          if (found) resolve(found);
          else
            reject(
              new Error(`owner exited (${child.exitCode ?? child.signalCode}) early; stderr: ${stderr}`),
            );
        }
      };
      waiters.add(check);
      check();
    });
  child.stdin!.on("error", () => {});
  const go = () => {
    child.stdin!.end("go\n");
  };
  return { child, go, events, waitFor, exited, stderr: () => stderr };
}

/** True while the process runs (a zombie waiting to be reaped counts as gone). */
export function processExists(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export async function sessionResources(engine: Engine, session: string): Promise<ResourceRef[]> {
  return listResources(engine, { labels: [`${LABELS.session}=${session}`] });
}

/**
 * Polls until the session has nothing on the daemon and stays so for `stableMs` (a dead owner's
 * last requests may still land); answers when it was first seen clean for good, or undefined if
 * that did not happen before `timeoutMs`.
 */
export async function waitUntilClean(
  engine: Engine,
  session: string,
  options: { timeoutMs: number; stableMs?: number },
): Promise<{ cleanAt?: number; remaining: ResourceRef[] }> {
  const deadline = performance.now() + options.timeoutMs;
  const stableMs = options.stableMs ?? 2_000;
  let cleanAt: number | undefined;
  for (;;) {
    const remaining = await sessionResources(engine, session);
    const now = performance.now();
    if (remaining.length > 0) cleanAt = undefined;
    else if (cleanAt === undefined) cleanAt = now;
    if (cleanAt !== undefined && now - cleanAt >= stableMs) return { cleanAt, remaining };
    if (now > deadline + stableMs) return { cleanAt: undefined, remaining };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function waitForProcessExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (processExists(pid)) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}
