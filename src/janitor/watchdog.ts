// The reaper watchdog: a detached plain-Node process (no image, no dev dependencies). It reads
// guard/release messages on its stdin pipe; when the pipe reaches end-of-file (the owner exited or
// was killed, SIGKILL included) it removes every resource of the sessions still guarded, by safe
// removal, and exits. Run from dist: `node dist/janitor/watchdog.js`.
//
// Where a POSIX shell exists, the owner starts the holder (watchdog-holder.ts) instead, which
// execs this file only when there is something to do, with the owner's pid (`--owner`), the
// messages still standing on fd 3 (`--book-fd`) and why it handed over (`--why`). Started
// directly, it serves from the first message. Either way the engine client and the reaping code
// are imported only when there is something to reap: the static imports here are built-ins and
// the message protocol, which keeps a direct start near Node's own.
import { appendFileSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Engine } from "../engine/engine.js";
import type { ReapResult } from "./reap.js";
import { applyMessage, type GuardEntry, parseMessage, WATCHDOG_READY } from "./watchdog-protocol.js";

/** `--owner PID --book-fd FD --why eof|owner-gone`: started by its holder (watchdog-holder.ts). */
function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

const logFile = process.env.BERTH_REAPER_LOG;
const ownerPid = Number(argument("--owner") ?? process.ppid);

function log(line: string): void {
  if (!logFile) return;
  try {
    appendFileSync(
      logFile,
      `${new Date().toISOString()} watchdog ${process.pid} (owner ${ownerPid}): ${line}\n`,
    );
  } catch {
    // Logging is a debugging aid; a full disk must not stop the reaping.
  }
}

const guarded = new Map<string, GuardEntry>();
let finishing = false;

async function finish(why: string): Promise<void> {
  if (finishing) return;
  finishing = true;
  if (guarded.size === 0) {
    log(`${why}; no session guarded, exiting`);
    process.exit(0);
  }
  log(`${why}; reaping ${[...guarded.keys()].join(", ")}`);
  const [{ createEngine }, { releaseLease }, { reapGraceFromEnv, reapSession }] = await Promise.all([
    import("../guard/guard.js"),
    import("./lease.js"),
    import("./reap.js"),
  ]).catch((error: unknown) => {
    log(`cannot load the reaping code: ${(error as Error)?.message}`);
    process.exit(1);
  });
  const engines = new Map<string, Engine>();
  const engineFor = (dockerHost: string) => {
    let engine = engines.get(dockerHost);
    if (!engine) {
      // Guarded like every other berth call: the limiter (BERTH_LIMITER from the owner's
      // environment) and classified retries; its debug log stays off (stderr is not watched).
      engine = createEngine({ dockerHost, env: process.env, log: false });
      engines.set(dockerHost, engine);
    }
    return engine;
  };
  // A leased reusable environment outlives its owner: only its lease is released.
  const leases = [...guarded.values()].filter((entry) => entry.lease);
  const released = await Promise.allSettled(
    leases.map(async ({ dockerHost, lease }) => {
      await releaseLease(engineFor(dockerHost), lease!);
      log(`${lease!.session}: released lease generation ${lease!.generation}`);
    }),
  );
  for (const result of released) {
    if (result.status === "rejected") log(`lease release failed: ${(result.reason as Error)?.message}`);
  }
  const results = await Promise.allSettled(
    [...guarded]
      .filter(([, entry]) => !entry.lease)
      .map(([session, { dockerHost }]) =>
        reapSession(engineFor(dockerHost), session, { log, maxGraceSeconds: reapGraceFromEnv() }),
      ),
  );
  for (const result of results) {
    if (result.status === "rejected") log(`reap failed: ${(result.reason as Error)?.message}`);
    else {
      const r: ReapResult = result.value;
      log(
        `${r.session}: ${r.clean ? "clean" : "NOT clean"} after ${Math.round(r.cleanAfterMs)} ms, removed ${r.removed}, failures ${r.failures}`,
      );
    }
  }
  process.exit(0);
}

// Detached from the owner's terminal: a Ctrl-C meant for the owner must not stop the reaping.
for (const signal of ["SIGINT", "SIGHUP", "SIGPIPE"] as const)
  process.on(signal, () => log(`ignored ${signal}`));
process.stdout.on("error", () => {});

function read(line: string): void {
  const message = parseMessage(line);
  if (!message) {
    log(`ignored malformed message ${JSON.stringify(line)}`);
    return;
  }
  applyMessage(guarded, message);
  log(`${message.op} ${message.session}`);
}

// The holder's book: the guards and leases still standing when it handed over.
const bookFd = argument("--book-fd");
if (bookFd !== undefined) {
  log(`started by its holder (${argument("--why") ?? "?"})`);
  for (const line of readFileSync(Number(bookFd), "utf8").split("\n")) if (line) read(line);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", read);
lines.on("close", () => void finish("owner closed the pipe"));

// A second line of defence should the pipe stay open without its owner (a descendant inheriting
// the descriptor): reparenting means the owner is gone. Not at the first check that sees it,
// though: a watchdog that was not scheduled while its owner released its sessions and exited
// wakes to this timer before it reads the release waiting in the pipe. One more turn reads it
// (and the pipe's end, which finishes normally); only a pipe still open at the next check reaps.
let ownerSeenGone = false;
setInterval(() => {
  if (process.ppid === ownerPid) return;
  if (ownerSeenGone) void finish("owner process is gone");
  ownerSeenGone = true;
}, 1_000).unref();

process.stdout.write(`${WATCHDOG_READY} ${process.pid}\n`);
