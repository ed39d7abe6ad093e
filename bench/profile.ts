// `npm run bench -- profile [single|stack] [--rounds N]`: where the time of one `up` and one `down`
// goes. Runs the `single` benchmark's service (or the `stack` benchmark's five services) through
// the library with the guard's debug log (JSON) and the progress events captured, one warm-up
// first, and prints for the last round a timeline: every phase and every API call with its start
// and end relative to the start of `up` (or `down`), time queued for the limiter, and the outcome.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { createEngine } from "../src/guard/guard.js";
import { drainPool, networkPoolConfig } from "../src/janitor/network-pool.js";
import type { StackEvent } from "../src/stack/progress/events.js";
import { up } from "../src/stack/up.js";
import { labelRun } from "./support.js";

const COMMAND =
  "mkdir -p /www && echo ok > /www/health && trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait";

function singleFile(image: string): string {
  return `services:
  web:
    image: ${image}
    command: ["sh", "-c", "${COMMAND}"]
    ports: ["127.0.0.1::8080"]
    x-berth:
      wait:
        - http: { port: 8080, path: /health }
`;
}

function stackFile(image: string): string {
  const service = (deps: string[]) => `
    image: ${image}
    command: ["sh", "-c", "${COMMAND}"]
    ports: ["127.0.0.1::8080"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 10s
      retries: 60${deps.length === 0 ? "" : `\n    depends_on:${deps.map((d) => `\n      ${d}:\n        condition: service_healthy`).join("")}`}`;
  return `services:
  db:${service([])}
  cache:${service([])}
  api:${service(["db", "cache"])}
  worker:${service(["api"])}
  web:${service(["api"])}
`;
}

interface Line {
  startMs: number;
  endMs: number;
  what: string;
  detail: string;
}

function render(title: string, t0: number, lines: Line[]): void {
  const rows = lines
    .map((l) => ({ ...l, startMs: l.startMs - t0, endMs: l.endMs - t0 }))
    .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  process.stdout.write(`\n${title}\n   start     end    took  what\n`);
  for (const r of rows) {
    const took = r.endMs - r.startMs;
    process.stdout.write(
      `${r.startMs.toFixed(0).padStart(8)}${r.endMs.toFixed(0).padStart(8)}${took.toFixed(0).padStart(8)}  ${r.what}${r.detail ? `  ${r.detail}` : ""}\n`,
    );
  }
}

export default async function main(args: string[] = []): Promise<void> {
  const which = args[0] === "stack" ? "stack" : "single";
  // With BERTH_NETWORK_POOL=on the profile's pooled networks are a pool of their own (its marker
  // in their labels), drained at the end: a profile leaves nothing on the daemon.
  const marker = `profile-${process.pid}`;
  labelRun("berth.bench", marker);
  const rounds = args.includes("--rounds") ? Number(args[args.indexOf("--rounds") + 1]) : 2;
  let lines: Line[] = [];
  const engine = createEngine({
    log: { level: "debug", format: "json" },
    logSink: (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const end = Date.parse(entry.time as string);
      if (entry.event === "call") {
        const durationMs = entry.durationMs as number;
        const queuedMs = entry.queuedMs as number;
        lines.push({
          startMs: end - durationMs - queuedMs,
          endMs: end,
          what: `api ${entry.operation as string}`,
          detail: [
            queuedMs >= 1 ? `queued ${queuedMs.toFixed(0)}` : "",
            entry.outcome === "ok" ? "" : String(entry.errorCode),
            entry.resource ? String(entry.resource).slice(0, 24) : "",
          ]
            .filter(Boolean)
            .join(" "),
        });
      } else if (entry.event === "phase") {
        lines.push({
          startMs: end - (entry.durationMs as number),
          endMs: end,
          what: `phase ${entry.scope as string}.${entry.phase as string}`,
          detail: entry.detail ? String(entry.detail) : "",
        });
      }
    },
  });
  const image = (await ensureBusyboxFixture(engine)).ref;
  const dir = mkdtempSync(join(tmpdir(), "berth-profile-"));
  const file = join(dir, "compose.yml");
  writeFileSync(file, which === "stack" ? stackFile(image) : singleFile(image));
  const onProgress = (event: StackEvent) => {
    if (event.type !== "service") return;
    const now = Date.now();
    lines.push({
      startMs: now,
      endMs: now,
      what: `event ${event.service} ${event.phase}`,
      detail: event.detail ?? "",
    });
  };
  try {
    for (let i = 0; i < rounds; i++) {
      lines = [];
      const upBegan = Date.now();
      const env = await up({ files: [file], engine, onProgress });
      const upEnded = Date.now();
      const upLines = lines;
      lines = [];
      const downBegan = Date.now();
      await env.down({ onProgress });
      const downEnded = Date.now();
      if (i === rounds - 1) {
        render(`up (${which}): ${upEnded - upBegan} ms`, upBegan, upLines);
        render(`down (${which}): ${downEnded - downBegan} ms`, downBegan, lines);
      } else {
        process.stdout.write(`warm-up round: up ${upEnded - upBegan} ms, down ${downEnded - downBegan} ms\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const pool = networkPoolConfig(process.env);
    if (pool.enabled) await drainPool(engine, pool, { label: { key: "berth.bench", value: marker } });
  }
}
