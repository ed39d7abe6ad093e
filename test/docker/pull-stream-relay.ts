// A fault relay in front of the daemon's Engine API for pull streams: every request passes
// (one per connection), and a chosen `POST /images/create` gets the daemon's real 200 answer and
// its first progress lines, then a fault: an `{"error":...}` object injected as the stream's next
// line, a connection cut in the middle of the chunked body, or a clean end of the body before
// the daemon's final status. The daemon's connection is closed then, which cancels its pull.
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { resolveDockerEndpoint } from "../../src/engine/docker-host.js";
import { createTransport } from "../../src/engine/transport.js";
import { closeAfterResponse, serveTempSocket } from "../../src/validate/fault-proxy.js";

export type StreamFault =
  | { kind: "pass" }
  /** After `afterLines` lines of the daemon's stream, an error object as the daemon writes one, then the end. */
  | { kind: "error-object"; afterLines: number; message: string }
  /** After `afterLines` lines, the connection is cut (no last chunk). */
  | { kind: "cut"; afterLines: number }
  /** After `afterLines` lines, the chunked body ends cleanly, without the daemon's final status. */
  | { kind: "end-early"; afterLines: number };

export interface PullStreamRelay {
  /** DOCKER_HOST for the engine under test. */
  dockerHost: string;
  /** Every `POST /images/create` seen, and what was done to it. */
  pulls: { path: string; fault: StreamFault["kind"] }[];
  /** The next pull's fate (`index` counts pulls from 1); the default passes everything. */
  decide: (pull: { index: number; path: string }) => StreamFault;
  close(): Promise<void>;
}

const chunk = (text: string): Buffer =>
  Buffer.from(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`, "utf8");
const LAST_CHUNK = Buffer.from("0\r\n\r\n", "latin1");

/**
 * Forwards the daemon's chunked answer to `client` line by line (re-chunked at line ends) until
 * `fault.afterLines` lines went through, then applies the fault.
 */
function relayWithFault(daemon: Duplex, client: Socket, fault: Exclude<StreamFault, { kind: "pass" }>): void {
  let raw = Buffer.alloc(0);
  let head = true;
  let remaining = -1; // bytes left of the current chunk's data; -1: a size line comes next
  let text = "";
  let lines = 0;
  let done = false;
  const finish = () => {
    done = true;
    daemon.destroy();
    if (fault.kind === "cut") {
      client.destroy();
      return;
    }
    if (fault.kind === "error-object") {
      client.write(
        chunk(`${JSON.stringify({ errorDetail: { message: fault.message }, error: fault.message })}\r\n`),
      );
    }
    client.end(LAST_CHUNK);
  };
  const forwardLines = () => {
    let newline = text.indexOf("\n");
    while (newline >= 0 && !done) {
      if (lines === fault.afterLines) return finish();
      client.write(chunk(text.slice(0, newline + 1)));
      text = text.slice(newline + 1);
      lines += 1;
      newline = text.indexOf("\n");
    }
    if (lines === fault.afterLines && !done) finish();
  };
  daemon.on("data", (data: Buffer) => {
    if (done) return;
    raw = Buffer.concat([raw, data]);
    if (head) {
      const end = raw.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headText = raw.subarray(0, end + 4).toString("latin1");
      client.write(headText);
      raw = raw.subarray(end + 4);
      head = false;
      if (!/^transfer-encoding:\s*chunked/im.test(headText) || !headText.startsWith("HTTP/1.1 200")) {
        // Not a streaming answer (an HTTP error before the stream): passed on untouched.
        done = true;
        client.write(raw);
        daemon.pipe(client);
        return;
      }
    }
    for (;;) {
      if (remaining < 0) {
        const eol = raw.indexOf("\r\n");
        if (eol < 0) break;
        remaining = Number.parseInt(raw.subarray(0, eol).toString("latin1").split(";")[0]!, 16);
        raw = raw.subarray(eol + 2);
        if (remaining === 0) {
          // The daemon's stream ended before the fault's line: end it as the daemon did.
          forwardLines();
          if (!done) {
            done = true;
            client.end(LAST_CHUNK);
          }
          return;
        }
      }
      if (raw.length < remaining + 2) break;
      text += raw.subarray(0, remaining).toString("utf8");
      raw = raw.subarray(remaining + 2);
      remaining = -1;
    }
    forwardLines();
  });
}

export async function startPullStreamRelay(): Promise<PullStreamRelay> {
  const endpoint = resolveDockerEndpoint(process.env);
  const relay: PullStreamRelay = {
    dockerHost: "",
    pulls: [],
    decide: () => ({ kind: "pass" }),
    close: async () => {
      await server.close();
    },
  };
  const server = await serveTempSocket("berth-pull-relay-", (client, open) => {
    let head = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      head = Buffer.concat([head, data]);
      if (head.indexOf("\r\n\r\n") < 0) return;
      client.off("data", onData);
      const [method = "", path = ""] = head.toString("latin1").split("\r\n", 1)[0]!.split(" ");
      let fault: StreamFault = { kind: "pass" };
      if (method === "POST" && /^(\/v[\d.]+)?\/images\/create\?/.test(path)) {
        fault = relay.decide({ index: relay.pulls.length + 1, path });
        relay.pulls.push({ path, fault: fault.kind });
      }
      const daemon = createTransport(endpoint).connect();
      open.add(daemon);
      daemon.on("close", () => {
        open.delete(daemon);
        client.end();
      });
      daemon.on("error", () => client.destroy());
      client.on("close", () => daemon.destroy());
      daemon.write(closeAfterResponse(head));
      client.pipe(daemon);
      if (fault.kind === "pass") daemon.pipe(client);
      else relayWithFault(daemon, client, fault);
    };
    client.on("data", onData);
  });
  relay.dockerHost = `unix://${server.path}`;
  return relay;
}
