// `berth config`: prints the resolved model, and refuses bad input with exit code 2.
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { main } from "../../src/cli/main.js";
import { FIXTURES } from "./compose-support.js";

async function run(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(["node", "berth", "config", ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

const good = (name: string) => join(FIXTURES, "good", name);
const bad = (name: string) => join(FIXTURES, "bad", name);

describe("berth config", () => {
  it("prints the resolved model as YAML, without source locations", async () => {
    const { code, stdout, stderr } = await run("-f", good("busybox-stack.yml"));
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const printed = parse(stdout);
    expect(Object.keys(printed.services)).toEqual(["db", "cache", "migrate", "api", "web"]);
    expect(printed.services.api.dependsOn[2]).toEqual({
      service: "migrate",
      condition: "service_completed_successfully",
      required: true,
    });
    expect(stdout).not.toContain("location");
  });

  it("merges several -f files and prints JSON with --json", async () => {
    const { code, stdout } = await run(
      "-f",
      good("override-base.yml"),
      "-f",
      good("override-dev.yml"),
      "--json",
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.ok).toBe(true);
    expect(result.project.services.web.command).toEqual(["httpd", "-f", "-p", "9090"]);
    expect(result.warnings).toEqual([]);
  });

  it("lists enabled services with --services, honouring --profile", async () => {
    expect((await run("-f", good("profiles.yml"), "--services")).stdout).toBe("app\n");
    expect(
      (await run("-f", good("profiles.yml"), "--services", "--profile", "debug", "--profile", "seed")).stdout,
    ).toBe("app\ndebug\nseed\n");
  });

  it("prints the keys x-berth.ignore drops as one warning on stderr", async () => {
    const { code, stderr } = await run("-f", good("unsupported.yml"), "--services");
    expect(code).toBe(0);
    expect(stderr).toMatch(/^berth: warning: berth ignores these Compose keys, as x-berth.ignore asks/);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("exits 2 with the file, line, path and value of a bad file", async () => {
    const { code, stderr, stdout } = await run("-f", bad("invalid-port.yml"));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /invalid-port\.yml:7:9: services\.api\.ports\[1\]: invalid port: host port 99999 is out of range 1-65535, got `99999:80` \[BERTH_COMPOSE\]/,
    );
    expect(stderr).toContain("hint:");
  });

  it("exits 2 with a JSON error under --json", async () => {
    const { code, stdout } = await run("-f", bad("cycle.yml"), "--json");
    expect(code).toBe(2);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      ok: false,
      error: { code: "BERTH_COMPOSE", path: "services.api.depends_on.db", line: 6, file: bad("cycle.yml") },
    });
    expect(result.error.message).toContain("dependency cycle: api -> db -> api");
  });

  it("exits 2 for a -f file that does not exist", async () => {
    const { code, stderr } = await run("-f", "/nonexistent/compose.yml");
    expect(code).toBe(2);
    expect(stderr).toContain("/nonexistent/compose.yml: compose file not found");
  });
});
