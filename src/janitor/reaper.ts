// The owner's side of the reaper: starts one watchdog process per owner process (on the first
// guarded session), tells it which sessions to guard and release, and closes its pipe once no
// session has been left for WATCHDOG_LINGER_MS, so the watchdog exits without work. Nothing here
// keeps the owner alive.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ReaperUnavailableError } from "./errors.js";
import type { Lease } from "./lease.js";
import { HOLDER_SCRIPT, holderShell } from "./watchdog-holder.js";
import { encodeMessage, WATCHDOG_READY, type WatchdogMessage } from "./watchdog-protocol.js";

const READY_TIMEOUT_MS = 15_000;

/**
 * How long the watchdog stays after its last session is released, for the process's next one:
 * starting it forks this process (~10 ms on the event loop, more for a large one), which an
 * `up` right after a `down` (the next test file, the next round) then need not pay again. While
 * it stays it is an idle shell reading its pipe; the owner's exit ends it as before.
 */
export const WATCHDOG_LINGER_MS = 5_000;

interface Watchdog {
  child: ChildProcess;
  sessions: Set<string>;
  ready: Promise<void>;
  /** Set while no session is guarded: closes the pipe when it fires. */
  linger?: NodeJS.Timeout;
}

let current: Watchdog | undefined;

/** `BERTH_REAPER=off` (or 0, false, no) turns the reaper off for every session of the process. */
export function reaperDisabledByEnv(env: Record<string, string | undefined> = process.env): boolean {
  return /^(off|0|false|no)$/i.test(env.BERTH_REAPER?.trim() ?? "");
}

/**
 * The compiled watchdog: next to this module when berth runs from dist, else (tests importing
 * src through vitest or tsx) in the built dist of the same checkout.
 */
function watchdogScript(): string {
  const candidates = [
    new URL("./watchdog.js", import.meta.url),
    new URL("../../dist/janitor/watchdog.js", import.meta.url),
  ].map((url) => fileURLToPath(url));
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new ReaperUnavailableError(
      `berth's reaper watchdog was not found (looked at ${candidates.join(", ")})`,
      {
        resource: candidates[0],
        hint: "Build berth (`npm run build`), or set BERTH_REAPER=off to run without the reaper.",
      },
    );
  }
  return found;
}

/** The running watchdog's pid, if this process has one. */
export function watchdogPid(): number | undefined {
  return current?.child.pid;
}

function start(): Watchdog {
  const script = watchdogScript();
  // The watchdog is plain Node on compiled JS: loaders from the owner (tsx, vitest) stay out.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  if (env.BERTH_REAPER_LOG) env.BERTH_REAPER_LOG = resolve(env.BERTH_REAPER_LOG);
  const shell = holderShell();
  const [command, args] = shell
    ? [shell, ["-c", HOLDER_SCRIPT, "berth-watchdog", String(process.pid), process.execPath, script]]
    : [process.execPath, [script]];
  const child = spawn(command, args, {
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env,
    cwd: "/",
  });
  child.unref();
  child.stdin!.on("error", () => {});
  const ready = new Promise<void>((resolveReady, reject) => {
    let stdout = "";
    let stderr = "";
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      child.off("error", onError);
      child.stdout!.destroy();
      child.stderr!.destroy();
      (child.stdin as Socket).unref();
      if (error) reject(error);
      else resolveReady();
    };
    const fail = (why: string, cause?: unknown) =>
      done(
        new ReaperUnavailableError(`berth's reaper watchdog (${script}) ${why}`, {
          resource: script,
          hint: "Set BERTH_REAPER_LOG=/tmp/berth-reaper.log to see what it does, or BERTH_REAPER=off to run without it.",
          cause,
        }),
      );
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited before it was ready (code ${code}, signal ${signal}): ${stderr.trim().slice(-500)}`);
    const onError = (error: Error) => fail(`could not be started: ${error.message}`, error);
    const timer = setTimeout(() => {
      child.kill();
      fail(`was not ready within ${READY_TIMEOUT_MS} ms`);
    }, READY_TIMEOUT_MS);
    child.once("exit", onExit);
    child.once("error", onError);
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (stdout.includes(WATCHDOG_READY)) done();
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
  });
  const watchdog: Watchdog = { child, sessions: new Set(), ready };
  child.once("exit", () => {
    if (current === watchdog) current = undefined;
  });
  return watchdog;
}

function send(watchdog: Watchdog, message: WatchdogMessage): Promise<void> {
  return new Promise((resolveWrite) => {
    // A write to a watchdog that already died fails; its sessions are unguarded either way.
    watchdog.child.stdin!.write(encodeMessage(message), () => resolveWrite());
  });
}

/**
 * Guards a session: when this process dies, the watchdog removes everything labelled with it.
 * Answers once the guard message is in the watchdog's pipe, without waiting for the watchdog to
 * be ready: from that moment the owner's death reaps the session (the watchdog reads the message,
 * then the end of the pipe), so the first resource need not wait for a Node process to start.
 * `ready` says whether the watchdog came up; callers await it before they report success.
 */
export async function guardSession(session: string, dockerHost: string): Promise<{ ready: Promise<void> }> {
  const watchdog = watchdogFor(session);
  const ready = watchdog.ready.catch((error: unknown) => {
    if (current === watchdog) current = undefined;
    throw error;
  });
  ready.catch(() => {});
  await send(watchdog, { op: "guard", session, dockerHost });
  return { ready };
}

/** The watchdog's book id of a lease, beside its session's own entry. */
export function leaseGuardId(session: string): string {
  return `lease:${session}`;
}

/**
 * Holds a lease through the watchdog: when this process dies, the lease is released and the
 * environment stays. Answers once the message is on the pipe, without waiting for the watchdog
 * to be ready (a lease is only bookkeeping: a dead owner's lease is free for the taking anyway).
 */
export function guardLease(lease: Lease, dockerHost: string): Promise<void> {
  const id = leaseGuardId(lease.session);
  const watchdog = watchdogFor(id);
  watchdog.ready.catch(() => {
    if (current === watchdog) current = undefined;
  });
  return send(watchdog, { op: "lease", session: id, dockerHost, lease });
}

/**
 * Stops guarding a session. After the last release the watchdog stays WATCHDOG_LINGER_MS for the
 * process's next session, then its pipe is closed and it exits (at once if the process exits).
 */
export async function releaseSession(session: string): Promise<void> {
  const watchdog = current;
  if (!watchdog?.sessions.delete(session)) return;
  const written = send(watchdog, { op: "release", session });
  if (watchdog.sessions.size === 0) {
    // Decided synchronously when it fires, so a session guarded meanwhile (which clears the
    // timer) never lands on a closing pipe.
    watchdog.linger = setTimeout(() => {
      if (current !== watchdog || watchdog.sessions.size > 0) return;
      current = undefined;
      watchdog.child.stdin!.end();
    }, WATCHDOG_LINGER_MS);
    watchdog.linger.unref();
  }
  await written;
}

/** The process's watchdog, started if there is none (or it has gone), now guarding `id`. */
function watchdogFor(id: string): Watchdog {
  if (!current) current = start();
  const watchdog = current;
  clearTimeout(watchdog.linger);
  watchdog.linger = undefined;
  watchdog.sessions.add(id);
  return watchdog;
}
