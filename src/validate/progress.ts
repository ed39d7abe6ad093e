// Progress of a validation run for people: on a terminal, one line per finished scenario above a
// live bar; in CI or when output is not a terminal, plain lines only (no cursor tricks in logs).

import { formatMs } from "./report/format.js";
import type { ProgressEvent } from "./runner.js";

interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function wantsLiveProgress(
  stream: ProgressStream,
  env: Record<string, string | undefined> = process.env,
): boolean {
  const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "0" && env.CI.toLowerCase() !== "false";
  return Boolean(stream.isTTY) && !ci && env.TERM !== "dumb" && !env.NO_COLOR;
}

const GREEN = "\x1b[32m";
const RED = "\x1b[31m";
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

export function plainProgress(stream: ProgressStream): (event: ProgressEvent) => void {
  return (event) => {
    if (event.kind === "phase") stream.write(`-- ${event.message}\n`);
    if (event.kind !== "scenario-end") return;
    const r = event.result;
    const width = String(event.total).length;
    const status = { pass: "pass", fail: "FAIL", skip: "skip" }[r.status];
    stream.write(
      `[${String(event.done).padStart(width)}/${event.total}] ${status} ${r.id} (${formatMs(r.durationMs)})\n`,
    );
    if (r.failure) stream.write(`        why: ${r.failure.message}\n`);
    if (r.skipReason) stream.write(`        skipped: ${r.skipReason}\n`);
  };
}

export interface LiveProgress {
  (event: ProgressEvent): void;
  /** Clears the bar and stops its clock; call once the run ends. */
  stop(): void;
}

export function liveProgress(stream: ProgressStream): LiveProgress {
  const began = Date.now();
  const running = new Set<string>();
  let done = 0;
  let total = 0;
  let failed = 0;
  let phase = "starting";
  const clear = () => stream.write("\r\x1b[2K");
  const draw = () => {
    const cols = Math.max(40, stream.columns ?? 100);
    const barWidth = Math.min(30, Math.max(10, cols - 70));
    const filled = total === 0 ? 0 : Math.round((done / total) * barWidth);
    const elapsed = Math.round((Date.now() - began) / 1000);
    const clock = `${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, "0")}`;
    const current = running.size > 0 ? [...running].join(", ") : phase;
    const bar = `${failed > 0 ? RED : GREEN}${"█".repeat(filled)}${RESET}${DIM}${"░".repeat(barWidth - filled)}${RESET}`;
    const head = ` ${bar} ${done}/${total || "?"} ${clock} `;
    const room = cols - barWidth - String(total).length * 2 - 14;
    clear();
    stream.write(
      `${head}${DIM}${current.length > room ? `${current.slice(0, room - 1)}…` : current}${RESET}`,
    );
  };
  const timer = setInterval(draw, 500);
  timer.unref();
  const render = ((event: ProgressEvent) => {
    if (event.kind === "phase") phase = event.message;
    if (event.kind === "scenario-start") {
      total = event.total;
      running.add(event.scenario.id);
    }
    if (event.kind === "scenario-end") {
      const r = event.result;
      total = event.total;
      done = event.done;
      running.delete(r.id);
      if (r.status === "fail") failed++;
      clear();
      const mark =
        r.status === "pass"
          ? `${GREEN}✔${RESET}`
          : r.status === "fail"
            ? `${RED}✖${RESET}`
            : `${DIM}–${RESET}`;
      stream.write(`${mark} ${r.id} ${DIM}${formatMs(r.durationMs)}${RESET}\n`);
      if (r.failure) stream.write(`  ${RED}${r.failure.message}${RESET}\n`);
      if (r.skipReason) stream.write(`  ${DIM}skipped: ${r.skipReason}${RESET}\n`);
    }
    draw();
  }) as LiveProgress;
  render.stop = () => {
    clearInterval(timer);
    clear();
  };
  return render;
}
