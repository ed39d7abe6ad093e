// A real relay in front of the Docker socket that reproduces a race of Docker 20.10 on demand:
// the daemon takes a container's exit before containerd's OOM notice, so the container reads
// `OOMKilled: false` and the `oom` event comes after the `die`. The relay hides the flag in
// container inspects (`"OOMKilled":true` becomes `"OOMKilled":null`, the same length, so the
// HTTP framing stays valid) and holds each `oom` event back in event streams. Everything else
// passes through untouched. Seen in CI on a machine busy building images.
import { connect as netConnect, type Socket } from "node:net";
import { closeAfterResponse, serveTempSocket } from "../../src/validate/fault-proxy.js";

export interface OomRaceRelay {
  readonly dockerHost: string;
  /**
   * Inspects of a killed container (exit 137) answered without its OOMKilled flag: hidden here,
   * or already false at the daemon, which is the race itself happening on a busy machine. And
   * `oom` events held back.
   */
  readonly stats: { flagsHidden: number; oomEventsDelayed: number };
  close(): Promise<void>;
}

const INSPECT = /^GET \/(v[\d.]+\/)?containers\/[^/?]+\/json[ ?]/;
const EVENTS = /^GET \/(v[\d.]+\/)?events[ ?]/;

/** Re-frames a chunked event stream, writing `oom` event chunks `delayMs` after the others. */
function delayOomEvents(daemon: Socket, client: Socket, delayMs: number, onDelayed: () => void): void {
  let buffer = Buffer.alloc(0);
  let headDone = false;
  const held = new Set<Promise<void>>();
  daemon.on("data", (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    if (!headDone) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.write(buffer.subarray(0, end + 4));
      buffer = buffer.subarray(end + 4);
      headDone = true;
    }
    for (;;) {
      const line = buffer.indexOf("\r\n");
      if (line < 0) return;
      const size = Number.parseInt(buffer.subarray(0, line).toString("latin1"), 16);
      const total = line + 2 + size + 2;
      if (buffer.length < total) return;
      const chunk = buffer.subarray(0, total);
      buffer = buffer.subarray(total);
      if (size === 0) {
        void Promise.all(held).then(() => client.end(chunk));
        return;
      }
      if (chunk.includes('"Action":"oom"')) {
        onDelayed();
        const release = new Promise<void>((resolve) =>
          setTimeout(() => {
            if (!client.destroyed) client.write(chunk);
            held.delete(release);
            resolve();
          }, delayMs),
        );
        held.add(release);
      } else {
        client.write(chunk);
      }
    }
  });
}

export async function startOomRaceRelay(daemonSocket: string, delayMs = 800): Promise<OomRaceRelay> {
  const stats = { flagsHidden: 0, oomEventsDelayed: 0 };
  const server = await serveTempSocket("berth-oom-race-", (client, open) => {
    client.once("data", (head: Buffer) => {
      const requestLine = head.toString("latin1").split("\r\n", 1)[0] ?? "";
      const daemon = netConnect({ path: daemonSocket });
      open.add(daemon);
      daemon.on("close", () => {
        open.delete(daemon);
        if (!EVENTS.test(requestLine)) client.end();
      });
      daemon.on("error", () => client.destroy());
      client.on("close", () => daemon.destroy());
      // One request per connection, so each response can be handled by what it answers.
      daemon.write(closeAfterResponse(head));
      client.pipe(daemon);
      if (INSPECT.test(requestLine)) {
        const parts: Buffer[] = [];
        daemon.on("data", (d: Buffer) => parts.push(d));
        daemon.on("end", () => {
          const text = Buffer.concat(parts).toString("latin1");
          const hidden = text.replaceAll('"OOMKilled":true', '"OOMKilled":null');
          const raced = /"ExitCode":137\b/.test(text) && /"OOMKilled":false/.test(text);
          if (hidden !== text || raced) stats.flagsHidden += 1;
          client.write(Buffer.from(hidden, "latin1"));
        });
      } else if (EVENTS.test(requestLine)) {
        delayOomEvents(daemon, client, delayMs, () => {
          stats.oomEventsDelayed += 1;
        });
      } else {
        daemon.pipe(client);
      }
    });
  });
  return { dockerHost: `unix://${server.path}`, stats, close: () => server.close() };
}
