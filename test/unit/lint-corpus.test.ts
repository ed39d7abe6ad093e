// Lint over real files through the compose loader: a clean project passes, and each file of the
// bad corpus is flagged by exactly the rules (and lines) its `# expect:` comment names.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadCompose, locate } from "../../src/stack/compose/index.js";
import { countFindings } from "../../src/stack/lint/finding.js";
import { lintCompose } from "../../src/stack/lint/lint.js";

const corpus = new URL("../fixtures/lint/", import.meta.url).pathname;

async function lintFiles(files: string[]) {
  const { project } = await loadCompose({ files, env: {} });
  const sources = project.files.map((file) => ({ file, value: parse(readFileSync(file, "utf8")) }));
  return lintCompose(project, sources, { locate });
}

const expectations = (file: string) =>
  (/^# expect: (.*)$/m.exec(readFileSync(file, "utf8"))?.[1] ?? "")
    .split(/\s+/)
    .filter((e) => /@\d+$/.test(e));

describe("lint corpus", () => {
  it("passes the clean project, base file alone and with its test override", async () => {
    expect(await lintFiles([join(corpus, "good/compose.yml")])).toEqual([]);
    expect(
      await lintFiles([join(corpus, "good/compose.yml"), join(corpus, "good/compose.test.yml")]),
    ).toEqual([]);
  });

  const bad = readdirSync(join(corpus, "bad")).filter((f) => f.endsWith(".yml"));
  it.each(bad)("flags %s", async (name) => {
    const file = join(corpus, "bad", name);
    const findings = await lintFiles([file]);
    expect(findings.map((f) => `${f.rule}@${f.line}`).sort()).toEqual(expectations(file).sort());
    for (const finding of findings) {
      expect(finding.file).toBe(file);
      expect(finding.message).toMatch(/service `[a-z]+`/);
      expect(finding.hint.length).toBeGreaterThan(10);
    }
  });

  it("covers every rule in the corpus", () => {
    const covered = new Set(
      [...bad.map((n) => join(corpus, "bad", n)), join(corpus, "bad/restart-in-tests/compose.test.yml")]
        .flatMap(expectations)
        .map((e) => e.split("@")[0]),
    );
    expect([...covered].sort()).toEqual([
      "allow-unknown",
      "fixed-host-port",
      "healthcheck-missing",
      "host-network",
      "host-pid",
      "image-unpinned",
      "memory-limit",
      "privileged",
      "restart-in-tests",
    ]);
  });

  it("flags restart policies only in a test environment, in the file that sets them", async () => {
    const dir = join(corpus, "bad/restart-in-tests");
    expect(await lintFiles([join(dir, "compose.yml")])).toEqual([]);
    const findings = await lintFiles([join(dir, "compose.yml"), join(dir, "compose.test.yml")]);
    expect(findings.map((f) => `${basename(f.file)}:${f.line} ${f.rule} ${f.service} ${f.severity}`)).toEqual(
      ["compose.test.yml:5 restart-in-tests db warning", "compose.yml:9 restart-in-tests api warning"],
    );
    expect(countFindings(findings)).toEqual({ errors: 0, warnings: 2 });
  });

  it("names file, line, column, path, severity and fix for a finding", async () => {
    const [finding] = await lintFiles([join(corpus, "bad/privileged.yml")]);
    expect(finding).toEqual({
      rule: "privileged",
      severity: "error",
      file: join(corpus, "bad/privileged.yml"),
      line: 6,
      column: 5,
      path: "services.api.privileged",
      service: "api",
      message: "service `api` runs privileged: it has every capability and all host devices",
      hint: "Drop `privileged: true` (grant single capabilities with cap_add instead); if the service really needs it, say so: `x-berth: {allow: [privileged]}`.",
    });
  });
});
