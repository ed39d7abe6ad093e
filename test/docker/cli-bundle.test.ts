// The built `berth` command (bin/berth.js, a CommonJS file) runs a named command from that
// command's own CommonJS bundle (dist/cli/bundle/commands/NAME.cjs) without Node's ES module
// loader, everything else from the ES module bundle, and the two say the same. It ends once its
// output is written, never before. Creates nothing on the daemon (`config`, `--help` only read).
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/commands.js";

const run = promisify(execFile);
const ROOT = process.cwd();
const BIN = join(ROOT, "bin", "berth.js");
const dir = mkdtempSync(join(tmpdir(), "berth-cli-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `berth ARGS` with Node's module loader debug log, which names every CommonJS file it loads. */
async function berth(args: string[], entry = BIN) {
  const { stdout, stderr } = await run(process.execPath, [entry, ...args], {
    cwd: dir,
    env: { ...process.env, NODE_DEBUG: "module" },
  });
  const loaded = [...stderr.matchAll(/dist\/cli\/bundle\/commands\/([a-z-]+)\.cjs/g)].map((m) => m[1]);
  return { stdout, loaded: [...new Set(loaded)] };
}

/** A file for `node -r` that prints `TAG <value of expression>` to stderr as the process exits. */
function exitHook(name: string, tag: string, expression: string): string {
  const hook = join(dir, name);
  writeFileSync(
    hook,
    `process.on("exit", () => process.stderr.write("${tag} " + (${expression}) + "\\n"));\n`,
  );
  return hook;
}

describe("the built berth command", () => {
  it("has a bundle of its own for every command but the long-running proxy", () => {
    const built = readdirSync(join(ROOT, "dist", "cli", "bundle", "commands")).map((f) =>
      f.replace(/\.cjs$/, ""),
    );
    expect(built.sort()).toEqual(
      Object.keys(COMMANDS)
        .filter((name) => name !== "proxy")
        .sort(),
    );
  });

  it("runs a named command from its bundle, with the same output as the ES module bundle", async () => {
    writeFileSync(
      join(dir, "compose.yaml"),
      "services:\n  web:\n    image: busybox:1.35.0\n    ports: ['127.0.0.1::80']\n",
    );
    const esm = join(dir, "esm.mjs");
    writeFileSync(
      esm,
      `const { main } = await import(${JSON.stringify(new URL("dist/cli/bundle/main.js", `file://${ROOT}/`).href)});\nprocess.exitCode = await main(process.argv);\n`,
    );
    const single = await berth(["config", "--json"]);
    expect(single.loaded).toEqual(["config"]);
    const modules = await berth(["config", "--json"], esm);
    expect(modules.loaded).toEqual([]);
    expect(single.stdout).toBe(modules.stdout);
    expect(JSON.parse(single.stdout).project.services.web.image).toBe("busybox:1.35.0");
  });

  it("keeps every bundle in ASCII (one byte per character in V8, no UTF-8 decoding to read)", () => {
    const bundle = join(ROOT, "dist", "cli", "bundle");
    const files = [
      ...readdirSync(join(bundle, "commands")).map((f) => join(bundle, "commands", f)),
      ...readdirSync(bundle)
        .filter((f) => f.endsWith(".js"))
        .map((f) => join(bundle, f)),
    ];
    expect(files.length).toBeGreaterThan(20);
    const wide = files.filter((file) => /[^\0-\x7f]/.test(readFileSync(file, "utf8")));
    expect(wide).toEqual([]);
  });

  it("runs a command with a young generation that does not grow (V8 flags set by bin/berth.js)", async () => {
    // The hook reports the young generation's size as the command exits. V8's default doubles
    // it to 8 MB while a command loads; with --semi-space-growth-factor=1 it stays at 2 MB.
    const hook = join(dir, "new-space.mjs");
    writeFileSync(
      hook,
      [
        'import v8 from "node:v8";',
        'const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;',
        'process.on("exit", () => process.stderr.write("NEW_SPACE " + young() + "\\n"));',
      ].join("\n"),
    );
    writeFileSync(join(dir, "compose.yaml"), "services:\n  web:\n    image: busybox:1.35.0\n");
    const { stderr } = await run(process.execPath, ["--import", hook, BIN, "config", "--json"], { cwd: dir });
    const size = Number(/NEW_SPACE (\d+)/.exec(stderr)?.[1]);
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it("keeps V8's code cache of a command's file on Node 20 (Node 22.1+ keeps its own)", async () => {
    writeFileSync(join(dir, "compose.yaml"), "services:\n  web:\n    image: busybox:1.35.0\n");
    const runtime = mkdtempSync(join(tmpdir(), "berth-cli-code-cache-"));
    try {
      const env = { ...process.env, XDG_RUNTIME_DIR: runtime };
      const first = await run(process.execPath, [BIN, "config", "--json"], { cwd: dir, env });
      const second = await run(process.execPath, [BIN, "config", "--json"], { cwd: dir, env });
      expect(second.stdout).toBe(first.stdout);
      const cacheDir = join(runtime, "berth", "code-cache");
      const entries = (() => {
        try {
          return readdirSync(cacheDir);
        } catch {
          return [];
        }
      })();
      if ("enableCompileCache" in (await import("node:module")).default) expect(entries).toEqual([]);
      else {
        expect(entries).toEqual([expect.stringMatching(/^config\.cjs-[0-9a-f]{16}\.v8$/)]);
        expect(statSync(join(cacheDir, entries[0]!)).mode & 0o777).toBe(0o600);
      }
    } finally {
      rmSync(runtime, { recursive: true, force: true });
    }
  });

  it("answers --version itself and runs unknown commands from the ES module bundle", async () => {
    const version = await berth(["--version"]);
    expect(version.loaded).toEqual([]);
    expect(version.stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}\n`);
    const unknown = await run(process.execPath, [BIN, "nope"], { cwd: dir }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((unknown as { code: number }).code).toBe(2);
    expect((unknown as { stderr: string }).stderr).toContain("unknown command 'nope'");
  });

  it("runs every command from the CommonJS entry, without Node's ES module loader", async () => {
    // The hook names the ES module loader's module job if Node loaded it.
    const hook = exitHook(
      "esm-loader.cjs",
      "ESM_JOB",
      'process.moduleLoadList.some((m) => m.endsWith("esm/module_job"))',
    );
    const names = Object.keys(COMMANDS);
    const results: { name: string; usage: boolean; esm: string | undefined }[] = [];
    // Four at a time: 20 Node processes on a busy 2-core machine.
    for (let i = 0; i < names.length; i += 4) {
      const batch = await Promise.all(
        names.slice(i, i + 4).map(async (name) => {
          const { stdout, stderr } = await run(process.execPath, ["-r", hook, BIN, name, "--help"], {
            cwd: dir,
          });
          return {
            name,
            usage: stdout.startsWith(`Usage: berth ${name} `),
            esm: /ESM_JOB (\w+)/.exec(stderr)?.[1],
          };
        }),
      );
      results.push(...batch);
    }
    // proxy runs from the ES modules (a long-running server: memory over start-up).
    expect(results).toEqual(
      names.map((name) => ({ name, usage: true, esm: name === "proxy" ? "true" : "false" })),
    );
  });

  it("runs `berth ps` and `berth down -p` without Node's modules they do not use", async () => {
    // The hook names the built-in modules the command loaded. TLS and HTTPS are for tcp+tls
    // endpoints, child_process for ssh:// and exec (and commander's subcommand executables),
    // crypto for a Docker context's directory, perf_hooks behind the global `performance`.
    const hook = exitHook(
      "builtins.cjs",
      "BUILTINS",
      'process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice(13)).join(",")',
    );
    const unused = ["tls", "https", "crypto", "child_process", "dgram", "perf_hooks"];
    const project = `berth-cli-bundle-${process.pid}`;
    for (const args of [
      ["ps", "-p", project],
      ["down", "-p", project],
    ]) {
      const { stdout, stderr } = await run(process.execPath, ["-r", hook, BIN, ...args], { cwd: dir });
      const loaded = /BUILTINS (\S+)/.exec(stderr)?.[1]?.split(",") ?? [];
      expect(loaded, args[0]).toContain("http");
      expect(
        loaded.filter((m) => unused.includes(m)),
        args[0],
      ).toEqual([]);
      expect(stdout + stderr, args[0]).toMatch(
        args[0] === "ps" ? /No berth environments/ : /nothing to remove/,
      );
    }
  });

  it("ends after its output is written, whole, to a pipe read late", async () => {
    // ~1.5 MB of JSON on stdout, more than a pipe holds: the reader starts only after 300 ms.
    const value = "x".repeat(5000);
    const services = Array.from(
      { length: 300 },
      (_, i) => `  s${i}:\n    image: busybox:1.35.0\n    environment:\n      BIG: "${value}"\n`,
    );
    writeFileSync(join(dir, "compose.yaml"), `services:\n${services.join("")}`);
    const child = spawn(process.execPath, [BIN, "config", "--json"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pause();
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stdout.resume();
    const closed = new Promise((resolve) => child.on("close", resolve));
    expect(await exited).toBe(0);
    await closed;
    const out = Buffer.concat(chunks).toString("utf8");
    expect(out.length).toBeGreaterThan(1_000_000);
    const project = JSON.parse(out).project;
    expect(Object.keys(project.services)).toHaveLength(300);
    expect(project.services.s299.environment.BIG).toBe(value);
  });
});
