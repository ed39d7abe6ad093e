// Live per-service progress on a terminal with listr2: one line per service that shows its phase
// as it changes and ends ticked (ready, completed, removed) or crossed (failed). Warnings and the
// rollback are printed as plain lines once the live display has ended.
import { Listr, ListrLogger, ProcessOutput } from "listr2";
import { describeImageProgress } from "../../images/pull-progress.js";
import type { ProgressListener, ServicePhase, StackEvent } from "./events.js";
import { describeEvent } from "./plain.js";

interface ServiceLine {
  update(phase: string, detail?: string): void;
  settle(outcome: "ok" | "failed" | "skipped", message?: string): void;
}

export interface LiveProgress {
  listener: ProgressListener;
  /** Ends the display; resolves once it is drawn for the last time. */
  finish(): Promise<void>;
}

const DONE: Partial<Record<ServicePhase, "ok" | "failed">> = {
  ready: "ok",
  completed: "ok",
  removed: "ok",
  failed: "failed",
};

export function listrProgress(stream: NodeJS.WriteStream): LiveProgress {
  const lines = new Map<string, ServiceLine>();
  const later: string[] = [];
  let running: Promise<unknown> | undefined;
  let mode: "up" | "down" | "pull" = "up";

  const start = (services: string[]) => {
    const tasks = services.map((service) => ({
      title: service,
      task: (_: unknown, task: { title: string; output: string; skip: (m?: string) => void }) =>
        new Promise<void>((resolve, reject) => {
          lines.set(service, {
            update: (phase, detail) => {
              task.output = `${phase}${detail ? ` (${detail})` : ""}`;
            },
            settle: (outcome, message) => {
              lines.delete(service);
              if (outcome === "ok") {
                task.title = message ? `${service}: ${message}` : service;
                resolve();
              } else if (outcome === "skipped") {
                task.skip(`${service}: ${message ?? "skipped"}`);
                resolve();
              } else reject(new Error(`${service}: ${message ?? "failed"}`));
            },
          });
        }),
    }));
    const listr = new Listr(tasks, {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: {
        collapseErrors: false,
        showErrorMessage: true,
        logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }),
      },
    });
    running = listr.run().catch(() => {});
  };

  const settleAll = (outcome: "ok" | "failed" | "skipped", message: string) => {
    for (const line of [...lines.values()]) line.settle(outcome, message);
  };

  const listener: ProgressListener = (event: StackEvent) => {
    if (event.type === "project" && !running) {
      mode = event.action;
      start(event.services);
      return;
    }
    if (event.type === "image") {
      const detail = describeImageProgress(event);
      // `berth pull` has a line per image; `up` shows the pull on the lines of its services.
      const own = lines.get(event.image);
      if (own && (event.phase === "pulled" || event.phase === "present"))
        own.settle("ok", `${event.phase}${detail ? ` (${detail})` : ""}`);
      else if (own && event.phase === "failed") own.settle("failed", event.reason);
      else if (own) own.update(event.phase, detail);
      else
        for (const service of event.services)
          lines.get(service)?.update(`${event.phase} ${event.image}`, detail);
      if (event.phase !== "retrying" && event.phase !== "failed") return;
    }
    if (event.type === "service") {
      const line = lines.get(event.service);
      if (!line) return;
      const done = DONE[event.phase];
      if (done)
        line.settle(
          done,
          event.phase === "failed"
            ? event.detail
            : `${event.phase}${event.detail ? ` in ${event.detail}` : ""}`,
        );
      else line.update(event.phase, event.detail);
      return;
    }
    if (event.type === "rollback" && event.phase === "started") settleAll("skipped", "rolled back");
    if (event.type === "done") settleAll(event.ok ? "ok" : "skipped", mode === "up" ? "not started" : "done");
    const text = describeEvent(event);
    if (text && event.type !== "done") later.push(`berth: ${text}`);
  };

  return {
    listener,
    async finish() {
      settleAll("skipped", "not started");
      await running;
      if (later.length > 0) stream.write(`${later.join("\n")}\n`);
    },
  };
}
