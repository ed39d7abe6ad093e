// `berth exec` attached to the local terminal, as `docker compose exec` is: standard input is
// forwarded (and closed when it ends, so `printf 'a\n' | berth exec svc cat` finishes), output is
// written as it comes, and with a pseudo-terminal the local one is in raw mode while attached
// (restored afterwards, on errors and signals too) and its size is passed on and followed.
import type { Duplex } from "node:stream";
import type { Engine } from "../engine/engine.js";
import { FrameDecoder } from "../engine/engine.js";
import { sleep } from "../model/sleep.js";

export interface AttachedExecOptions {
  env?: string[];
  user?: string;
  workingDir?: string;
  /** Allocate a pseudo-terminal in the container. */
  tty: boolean;
}

export interface Terminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type Ending = { output: "ended" } | { signal: keyof typeof SIGNALS };

/** The output stream that is the local terminal (stdout, else stderr), which knows its size. */
function screen(terminal: Terminal): NodeJS.WriteStream | undefined {
  return [terminal.stdout, terminal.stderr].find((s) => s.isTTY);
}

function terminalSize(terminal: Terminal): { rows: number; columns: number } | undefined {
  const out = screen(terminal);
  return out && out.rows > 0 && out.columns > 0 ? { rows: out.rows, columns: out.columns } : undefined;
}

/**
 * Sizes the exec's terminal; the first attempt may come before the command runs, so it is retried
 * (as the docker CLI does: 10 attempts over about half a second). Answers the last error when
 * every attempt failed.
 */
async function resize(
  engine: Engine,
  execId: string,
  terminal: Terminal,
  attempts: number,
): Promise<unknown> {
  const size = terminalSize(terminal);
  if (!size) return undefined;
  let failure: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await engine.resizeExec(execId, size);
      return undefined;
    } catch (error) {
      failure = error;
      if (attempt < attempts) await sleep(10 * attempt);
    }
  }
  return failure;
}

/** The exit code, once the daemon has seen the command end (it may lag the output by a moment). */
async function exitCodeOf(engine: Engine, execId: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const inspected = await engine.inspectExec(execId);
    if (!inspected.Running || attempt >= 50) return inspected.ExitCode ?? 1;
    await sleep(20);
  }
}

const SIGNAL_NAMES = Object.keys(SIGNALS) as (keyof typeof SIGNALS)[];

/** Connects the terminal to the exec; `done` settles when the output ends or a signal comes. */
function wire(stream: Duplex, terminal: Terminal, tty: boolean): { done: Promise<Ending>; unwire(): void } {
  const listeners = new Map<keyof typeof SIGNALS, () => void>();
  const done = new Promise<Ending>((resolve, reject) => {
    const output = tty ? stream : stream.pipe(new FrameDecoder(terminal.stderr));
    output.pipe(terminal.stdout, { end: false });
    output.once("end", () => resolve({ output: "ended" }));
    stream.once("error", reject);
    // Ending the connection's writing side closes the command's stdin (a half-close).
    terminal.stdin.pipe(stream);
    for (const signal of SIGNAL_NAMES) {
      const listener = () => resolve({ signal });
      listeners.set(signal, listener);
      process.on(signal, listener);
    }
  });
  const unwire = () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
    terminal.stdin.unpipe(stream);
    // Stop reading local input, so the process can end while a pipe is still open.
    if (terminal.stdin.isTTY) terminal.stdin.pause();
    else terminal.stdin.destroy();
    stream.destroy();
  };
  return { done, unwire };
}

/** Runs `cmd` attached; answers the code berth should exit with (the command's, or 128 + a signal's). */
export async function runAttachedExec(
  engine: Engine,
  containerId: string,
  cmd: string[],
  options: AttachedExecOptions,
  terminal: Terminal = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const { tty } = options;
  const { execId, stream } = await engine.startExec(containerId, cmd, {
    stdin: true,
    tty,
    ...(options.env ? { env: options.env } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.workingDir ? { workingDir: options.workingDir } : {}),
  });
  const raw = tty && terminal.stdin.isTTY;
  // One resize at a time, each reading the size when it goes: `stty rows 40 cols 120` is two
  // SIGWINCHes, and two resizes in flight at once can reach the daemon in the wrong order.
  let sizing: Promise<unknown> = Promise.resolve();
  const sizeTerminal = (attempts: number) =>
    (sizing = sizing.then(() => resize(engine, execId, terminal, attempts)));
  const onResize = () => void sizeTerminal(1);
  let unwire: (() => void) | undefined;
  try {
    if (raw) terminal.stdin.setRawMode(true);
    const wired = wire(stream, terminal, tty);
    unwire = wired.unwire;
    // A connection error while the terminal is being sized is awaited just below.
    wired.done.catch(() => undefined);
    if (tty) {
      // Node reads the new size and emits 'resize' on SIGWINCH.
      screen(terminal)?.on("resize", onResize);
      const failure = await sizeTerminal(10);
      // The command runs on in the daemon's default size (80x24); say so, as the docker CLI does.
      if (failure)
        terminal.stderr.write(
          `berth: could not size the terminal, using the default: ${messageOf(failure)}\n`,
        );
    }
    const ending = await wired.done;
    if ("signal" in ending) return 128 + SIGNALS[ending.signal];
    return await exitCodeOf(engine, execId);
  } finally {
    if (raw) terminal.stdin.setRawMode(false);
    screen(terminal)?.off("resize", onResize);
    if (unwire) unwire();
    else stream.destroy();
  }
}
