// Waits until an HTTP endpoint on a published port answers with the expected status (any 2xx
// when none is given).
import { request } from "node:http";
import { pollUntil } from "../backoff.js";
import { NotReadyError, type WaitStrategy, type WaitTarget } from "./types.js";

const REQUEST_TIMEOUT_MS = 2_000;

function httpStatus(url: string, signal: AbortSignal): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", timeout: REQUEST_TIMEOUT_MS, signal }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

export function httpWait(containerPort: number, path: string, status?: number): WaitStrategy {
  let last: string | undefined;
  const expected = status === undefined ? "2xx" : String(status);
  return {
    description: `http :${containerPort}${path} -> ${expected}`,
    lastProbe: () => last,
    async wait(target: WaitTarget, signal: AbortSignal) {
      const address = target.hostAddress(containerPort);
      if (!address) {
        throw new NotReadyError("invalid", `container port ${containerPort} is not published to the host`);
      }
      const url = `http://${address.host}:${address.port}${path.startsWith("/") ? path : `/${path}`}`;
      await pollUntil(
        async () => {
          last ??= `GET ${url}: no answer yet`;
          const answer = await httpStatus(url, signal);
          last = `GET ${url}: ${answer}`;
          if (typeof answer !== "number") return false;
          return status === undefined ? answer >= 200 && answer < 300 : answer === status;
        },
        { backoff: { initialMs: 50, factor: 1.5, maxMs: 1_000 }, signal },
      );
    },
  };
}
