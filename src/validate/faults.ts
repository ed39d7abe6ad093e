// Relay rules several scenarios' faults share (see `Fault` in scenario.ts and answer-relay.ts).
import type { Json, RelayRule } from "./answer-relay.js";

/** A container's inspect answer: `/containers/{id}/json`. */
export const INSPECT = /^\/containers\/[^/?]+\/json(\?|$)/;

/** Changes every container inspect answer the daemon gives (only successful ones). */
export function inspectRewrite(change: (info: Json) => void, extra: Partial<RelayRule> = {}): RelayRule {
  return {
    method: "GET",
    path: INSPECT,
    json: (body) => {
      if (body && typeof body === "object" && "State" in body) change(body);
      return body;
    },
    ...extra,
  };
}

/** A graceful stop turned into SIGKILL on its way to the daemon (`/stop` becomes `/kill`). */
export const STOP_BECOMES_KILL: RelayRule = {
  method: "POST",
  path: /^\/containers\/[^/?]+\/stop(\?|$)/,
  request: (path) => path.replace(/\/stop(\?.*)?$/, "/kill?signal=SIGKILL"),
};
