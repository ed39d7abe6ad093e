// `berth proxy` under bad input: malformed HTTP, a header flood, a request smuggling attempt,
// slow and half-sent requests, an invalid JSON create and path tricks, sent as raw bytes on the
// proxy's socket. Each must be refused with a 4xx (and the connection closed), while a second
// client's /_ping keeps being answered within its latency budget.
import { connect } from "node:net";
import { join } from "node:path";
import { percentile } from "../../model/stats.js";
import { startProxy } from "../../proxy/server.js";
import { check, type Scenario, type ScenarioContext } from "../scenario.js";

/** The proxy's header deadline in this scenario: short, so a slow client's 408 comes quickly. */
const HEADERS_TIMEOUT_MS = 1_500;

interface Exchange {
  /** The status the proxy answered, or 0 for none. */
  status: number;
  /** The proxy closed the connection. */
  closed: boolean;
  ms: number;
}

/**
 * Sends `parts` on a new connection (`gapMs` apart), optionally ends the client's side, and reads
 * until the proxy answers and closes, or `waitMs` passes.
 */
function exchange(
  socket: string,
  parts: string[],
  options: { gapMs?: number; end?: boolean; waitMs: number },
): Promise<Exchange> {
  return new Promise((resolve) => {
    const began = performance.now();
    const client = connect({ path: socket, allowHalfOpen: true });
    let answer = "";
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearInterval(sender);
      client.destroy();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
      resolve({ status, closed, ms: performance.now() - began });
    };
    client.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
    });
    client.on("end", () => {
      closed = true;
      finish();
    });
    client.on("close", () => {
      closed = true;
      finish();
    });
    client.on("error", () => {});
    const queue = [...parts];
    const sendNext = () => {
      const part = queue.shift();
      if (part !== undefined && client.writable) client.write(part);
      if (queue.length === 0) {
        clearInterval(sender);
        if (options.end) client.end();
      }
    };
    const sender = setInterval(sendNext, options.gapMs ?? 0);
    sendNext();
    timer = setTimeout(finish, options.waitMs);
  });
}

async function pingLatencies(socket: string, count: number): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = [];
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const got = await exchange(socket, ["GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"], {
      waitMs: 5_000,
    });
    if (got.status === 200) ms.push(got.ms);
    else failed += 1;
  }
  return { ms, failed };
}

const head = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;
const flood = Array.from({ length: 2_000 }, (_, i) => `X-Flood-${i}: ${"a".repeat(32)}`);
const json = "{not json";

/** Each bad input, what it sends, and how it must be refused. */
function abuses(ctx: ScenarioContext) {
  const wait = HEADERS_TIMEOUT_MS + 3_000;
  const slow = "GET /_ping HTTP/1.1\r\nHost: docker\r\nX-Slow: ".split("");
  return {
    "malformed request line": { parts: ["GARBAGE / NOT-HTTP\r\n\r\n"], waitMs: 3_000 },
    "header flood (2000 headers, 80 KB)": {
      parts: [head(["GET /_ping HTTP/1.1", "Host: docker", ...flood])],
      waitMs: 3_000,
    },
    "Content-Length with Transfer-Encoding": {
      parts: [
        head([
          "POST /v1.41/containers/create HTTP/1.1",
          "Host: docker",
          "Content-Length: 4",
          "Transfer-Encoding: chunked",
        ]),
        "0\r\n\r\n",
      ],
      waitMs: 3_000,
    },
    "invalid JSON create": {
      parts: [
        head([
          `POST /v1.41/containers/create?name=${ctx.name("bad-json")} HTTP/1.1`,
          "Host: docker",
          "Content-Type: application/json",
          `Content-Length: ${json.length}`,
          "Connection: close",
        ]) + json,
      ],
      waitMs: 5_000,
    },
    "path /containers/../../info": {
      parts: [head(["GET /v1.41/containers/../../info HTTP/1.1", "Host: docker", "Connection: close"])],
      waitMs: 3_000,
    },
    "path /containers/%2e%2e/%2e%2e/info": {
      parts: [
        head(["GET /v1.41/containers/%2e%2e/%2e%2e/info HTTP/1.1", "Host: docker", "Connection: close"]),
      ],
      waitMs: 3_000,
    },
    "slowloris (a header byte every 200 ms)": { parts: slow, gapMs: 200, waitMs: wait },
    "half a request, then silence": { parts: ["GET /_ping HTTP/1.1\r\nHo"], waitMs: wait },
    "half a request, then end of stream": { parts: ["GET /_ping HTTP/1.1\r\nHo"], end: true, waitMs: 3_000 },
  } satisfies Record<string, { parts: string[]; gapMs?: number; end?: boolean; waitMs: number }>;
}

export const proxyBadInput: Scenario = {
  id: "proxy.bad-input",
  category: "proxy",
  title: "Bad input to the proxy is refused with a 4xx while other clients are served",
  exclusive: true,
  timeoutMs: 60_000,
  fault: {
    kind: "setup",
    describe: "the proxy's header limits are off: no header deadline, 1 MiB of headers accepted",
    expect: /bad input not refused: (header flood|slowloris|half a request)/,
  },
  async run(ctx) {
    const socket = join(ctx.tempDir(), "proxy.sock");
    const proxy = await startProxy({
      listen: `unix://${socket}`,
      upstream: ctx.engine.endpoint.url,
      ...(ctx.faulted
        ? { headersTimeoutMs: 0, maxHeaderBytes: 1024 * 1024 }
        : { headersTimeoutMs: HEADERS_TIMEOUT_MS }),
    });
    ctx.defer(() => proxy.close());
    const before = await pingLatencies(socket, 15);
    const cases = Object.entries(abuses(ctx));
    const during = pingLatencies(socket, 30);
    const answers = await Promise.all(cases.map(([, abuse]) => exchange(socket, abuse.parts, abuse)));
    const served = await during;
    const refused: Record<string, string> = {};
    for (const [i, [what]] of cases.entries()) {
      const got = answers[i]!;
      refused[what] =
        `${got.status || "no answer"}${got.closed ? ", closed" : ""} after ${Math.round(got.ms)} ms`;
    }
    ctx.observe("answers", refused);
    for (const [i, [what]] of cases.entries()) {
      const got = answers[i]!;
      check(
        got.status >= 400 && got.status < 500 && got.closed,
        `bad input not refused: ${what}: ${refused[what]}`,
        {
          expected: "a 4xx, connection closed",
          actual: refused[what],
        },
      );
    }
    const [p50Before, p50During] = [percentile(before.ms, 50), percentile(served.ms, 50)];
    ctx.observe("pingMedianBeforeMs", Number(p50Before.toFixed(2)));
    ctx.observe("pingMedianDuringMs", Number(p50During.toFixed(2)));
    check(served.failed === 0, `${served.failed} of 30 pings from another client failed during the abuse`);
    // The budget: the same order as before, on a machine others load too.
    const budget = 5 * p50Before + 25;
    check(
      p50During <= budget,
      `/_ping took ${p50During.toFixed(1)} ms during the abuse (budget ${budget.toFixed(1)} ms)`,
      {
        expected: `<= ${budget.toFixed(1)} ms`,
        actual: `${p50During.toFixed(1)} ms`,
      },
    );
    return { pingsDuring: served.ms.length };
  },
};
