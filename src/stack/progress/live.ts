// Live per-service progress on a terminal: one line per service that shows its phase as it
// changes and ends ticked (ready, completed, removed), crossed (failed) or skipped. The block is
// redrawn in place (cursor up, clear line); lines are cut to the terminal's width so that none
// wraps and the redraw stays aligned. Warnings and the rollback are printed as plain lines once
// the live display has ended.
import { describeImageProgress } from "../../images/pull-progress.js";
import type { ProgressListener, ServicePhase, StackEvent } from "./events.js";
import { describeEvent } from "./plain.js";

type Outcome = "ok" | "failed" | "skipped";

interface ServiceLine {
  service: string;
  text: string;
  outcome?: Outcome;
}

export interface LiveProgress {
  listener: ProgressListener;
  /** Ends the display and prints the lines kept for after it. */
  finish(): Promise<void>;
}

interface LiveStream {
  write(text: string): boolean;
  columns?: number;
}

const DONE: Partial<Record<ServicePhase, "ok" | "failed">> = {
  ready: "ok",
  completed: "ok",
  removed: "ok",
  failed: "failed",
};

const MARK: Record<Outcome | "running", string> = { running: "…", ok: "✔", failed: "✖", skipped: "↓" };

function cut(text: string, width: number | undefined): string {
  if (!width || width < 2 || text.length < width) return text;
  return `${text.slice(0, width - 2)}…`;
}

export function liveProgress(stream: LiveStream): LiveProgress {
  const lines: ServiceLine[] = [];
  const later: string[] = [];
  let drawn = 0;
  let mode: "up" | "down" | "pull" = "up";
  let started = false;

  const draw = () => {
    let out = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const line of lines) {
      const text = `${MARK[line.outcome ?? "running"]} ${line.service}${line.text ? `: ${line.text}` : ""}`;
      out += `\x1b[2K${cut(text, stream.columns)}\n`;
    }
    drawn = lines.length;
    if (out) stream.write(out);
  };

  const settle = (line: ServiceLine, outcome: Outcome, text: string) => {
    if (line.outcome) return;
    line.outcome = outcome;
    line.text = text;
  };

  const settleAll = (outcome: Outcome, text: string) => {
    for (const line of lines) settle(line, outcome, text);
  };

  const listener: ProgressListener = (event: StackEvent) => {
    if (event.type === "project" && !started) {
      started = true;
      mode = event.action;
      lines.push(...event.services.map((service) => ({ service, text: "" })));
      draw();
      return;
    }
    if (event.type === "image") {
      const detail = describeImageProgress(event);
      const suffix = detail ? ` (${detail})` : "";
      // `berth pull` has a line per image; `up` shows the pull on the lines of its services.
      const own = lines.find((l) => l.service === event.image);
      if (own && (event.phase === "pulled" || event.phase === "present"))
        settle(own, "ok", `${event.phase}${suffix}`);
      else if (own && event.phase === "failed") settle(own, "failed", event.reason ?? "failed");
      else if (own) {
        if (!own.outcome) own.text = `${event.phase}${suffix}`;
      } else
        for (const line of lines)
          if (event.services.includes(line.service) && !line.outcome)
            line.text = `${event.phase} ${event.image}${suffix}`;
      draw();
      if (event.phase !== "retrying" && event.phase !== "failed") return;
    }
    if (event.type === "service") {
      const line = lines.find((l) => l.service === event.service);
      if (!line || line.outcome) return;
      const done = DONE[event.phase];
      if (done === "failed") settle(line, "failed", event.detail ?? "failed");
      else if (done) settle(line, "ok", `${event.phase}${event.detail ? ` in ${event.detail}` : ""}`);
      else line.text = `${event.phase}${event.detail ? ` (${event.detail})` : ""}`;
      draw();
      return;
    }
    if (event.type === "rollback" && event.phase === "started") settleAll("skipped", "rolled back");
    if (event.type === "done") settleAll(event.ok ? "ok" : "skipped", mode === "up" ? "not started" : "done");
    const text = describeEvent(event);
    if (text && event.type !== "done") later.push(`berth: ${text}`);
    draw();
  };

  return {
    listener,
    async finish() {
      settleAll("skipped", "not started");
      draw();
      if (later.length > 0) stream.write(`${later.join("\n")}\n`);
    },
  };
}
