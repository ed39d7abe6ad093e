import { describe, expect, it } from "vitest";
import { liveProgress, plainProgress, wantsLiveProgress } from "../../src/validate/progress.js";
import { sampleResults } from "./report-sample.js";

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 100, write: (t: string) => chunks.push(t) } };
}

describe("validation progress", () => {
  it("draws a live bar only on a terminal outside CI", () => {
    expect(wantsLiveProgress({ isTTY: true, write: () => {} }, {})).toBe(true);
    expect(wantsLiveProgress({ isTTY: false, write: () => {} }, {})).toBe(false);
    expect(wantsLiveProgress({ isTTY: true, write: () => {} }, { CI: "true" })).toBe(false);
    expect(wantsLiveProgress({ isTTY: true, write: () => {} }, { CI: "false" })).toBe(true);
    expect(wantsLiveProgress({ isTTY: true, write: () => {} }, { TERM: "dumb" })).toBe(false);
  });

  it("prints one plain line per finished scenario, with the reason for a failure", () => {
    const { chunks, stream } = sink();
    const render = plainProgress(stream);
    const [pass, , fail, skip] = sampleResults().scenarios;
    render({ kind: "phase", message: "category lifecycle" });
    render({ kind: "scenario-start", scenario: pass!, done: 0, total: 12 });
    render({ kind: "scenario-end", result: pass!, done: 1, total: 12 });
    render({ kind: "scenario-end", result: fail!, done: 2, total: 12 });
    render({ kind: "scenario-end", result: skip!, done: 3, total: 12 });
    expect(chunks.join("")).toBe(
      [
        "-- category lifecycle",
        "[ 1/12] pass lifecycle.create-start (812 ms)",
        "[ 2/12] FAIL rate-limiting.burst-within-limit (4.83 s)",
        `        why: ${fail!.failure!.message}`,
        "[ 3/12] skip reference-stack.up-healthy-down (0.0 ms)",
        "        skipped: its images are not built",
        "",
      ].join("\n"),
    );
  });

  it("prints one line per proof under --prove, saying why a scenario was not proven", () => {
    const { chunks, stream } = sink();
    const render = plainProgress(stream);
    const [pass] = sampleResults().scenarios;
    const proof = {
      fault: "the stop becomes a SIGKILL",
      kind: "relay" as const,
      expected: "exit code 137",
      evidence: {},
      durationMs: 1200,
    };
    const proven = { ...pass!, proof: { ...proof, status: "fail" as const, proven: true } };
    const passedAnyway = { ...pass!, proof: { ...proof, status: "pass" as const, proven: false } };
    render({ kind: "proof-end", result: proven, done: 1, total: 2 });
    render({ kind: "proof-end", result: passedAnyway, done: 2, total: 2 });
    expect(chunks.join("")).toBe(
      [
        "[1/2] proven lifecycle.create-start (1.20 s)",
        "[2/2] NOT PROVEN lifecycle.create-start (1.20 s)",
        "        why: it passed under its fault",
        "",
      ].join("\n"),
    );
  });

  it("keeps finished scenarios above the live bar and clears the bar when stopped", () => {
    const { chunks, stream } = sink(true);
    const render = liveProgress(stream);
    const [pass] = sampleResults().scenarios;
    render({ kind: "scenario-start", scenario: pass!, done: 0, total: 2 });
    render({ kind: "scenario-end", result: pass!, done: 1, total: 2 });
    render.stop();
    const text = chunks.join("");
    expect(text).toContain("lifecycle.create-start");
    expect(text).toContain("1/2");
    expect(text).toContain("█");
    expect(chunks.at(-1)).toBe("\r\x1b[2K");
  });
});
