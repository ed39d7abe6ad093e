import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import { readResults, writeReportDir } from "../../src/validate/report/files.js";
import { caught } from "../support/caught.js";
import { sampleResults } from "./report-sample.js";

const dir = mkdtempSync(join(tmpdir(), "berth-report-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(content: string | undefined): ConfigError {
  const file = join(dir, `r-${Math.random()}.json`);
  if (content !== undefined) writeFileSync(file, content);
  const error = caught<ConfigError>(() => readResults(file));
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).toContain(file);
  return error;
}

describe("results files", () => {
  it("round-trips: what the report dir holds reads back as the same results", () => {
    const written = writeReportDir(join(dir, "out"), sampleResults());
    expect(readResults(written.json!)).toEqual(sampleResults());
    expect(readFileSync(written.markdown!, "utf8")).toContain("# berth validation report");
    expect(readFileSync(written.html!, "utf8")).toMatch(/^<!doctype html>/);
  });

  it("refuses a missing file, a non-JSON file and a foreign JSON file, naming the file", () => {
    expect(refusal(undefined).message).toContain("cannot read results file");
    expect(refusal("{ not json").message).toContain("is not valid JSON");
    expect(refusal('{"schema":"other/v9"}').message).toContain("unknown results schema `other/v9`");
  });

  it("names the field of a malformed results file", () => {
    const broken = sampleResults() as unknown as { scenarios: { status: string }[] };
    broken.scenarios[1]!.status = "maybe";
    const error = refusal(JSON.stringify(broken));
    expect(error.message).toContain("invalid results at `scenarios[1].status`");
  });
});
