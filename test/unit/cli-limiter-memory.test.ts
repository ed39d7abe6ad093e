import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  BASELINES_MAX_AGE_MS,
  baselinesPath,
  loadBaselines,
  parseBaselines,
  saveBaselines,
} from "../../src/cli/limiter-memory.js";
import { createLimiter } from "../../src/guard/limiter.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "berth-limiter-memory-"));
  dirs.push(dir);
  return dir;
}

describe("the CLI's limiter memory", () => {
  it("keeps one file per daemon endpoint in the user's runtime directory", () => {
    const env = { XDG_RUNTIME_DIR: "/run/user/1000" };
    expect(baselinesPath("unix:///var/run/docker.sock", env)).toBe(
      "/run/user/1000/berth/limiter-unix_var_run_docker.sock.json",
    );
    expect(baselinesPath("tcp://10.0.0.5:2376", env)).toBe(
      "/run/user/1000/berth/limiter-tcp_10.0.0.5_2376.json",
    );
    expect(baselinesPath("unix:///x.sock", { ...env, BERTH_LIMITER_BASELINES: "off" })).toBeUndefined();
    expect(baselinesPath("unix:///x.sock", { ...env, BERTH_LIMITER_BASELINES: "/tmp/b.json" })).toBe(
      "/tmp/b.json",
    );
  });

  it("takes only operation names with sane latencies from the file", () => {
    const text = JSON.stringify({
      baselines: {
        "container.start": 512.5,
        "container.exec-create": 8,
        "container.stop": -1,
        "container.remove": "12",
        "network.create": Number.MAX_VALUE,
        "../etc": 5,
      },
    });
    expect(parseBaselines(text)).toEqual({ "container.start": 512.5, "container.exec-create": 8 });
    expect(parseBaselines("{}")).toEqual({});
  });

  it("round-trips through the file, and forgets a missing, broken or day-old one", () => {
    const path = join(tempDir(), "sub", "limiter.json");
    expect(loadBaselines(path)).toEqual({});
    saveBaselines(path, { "container.start": 300 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadBaselines(path)).toEqual({ "container.start": 300 });
    expect(loadBaselines(path, Date.now() + BASELINES_MAX_AGE_MS + 60_000)).toEqual({});
    const old = (Date.now() - BASELINES_MAX_AGE_MS - 60_000) / 1000;
    utimesSync(path, old, old);
    expect(loadBaselines(path)).toEqual({});
    saveBaselines(path, { "container.start": 300 });
    chmodSync(path, 0o666);
    expect(loadBaselines(path)).toEqual({});
    chmodSync(path, 0o600);
    writeFileSync(path, "not json");
    expect(loadBaselines(path)).toEqual({});
    saveBaselines(path, {});
    expect(readFileSync(path, "utf8")).toBe("not json");
    expect(loadBaselines(undefined)).toEqual({});
  });
  it("writes nothing when the command learned nothing new (its file keeps its age)", () => {
    const path = join(tempDir(), "limiter.json");
    saveBaselines(path, { "container.start": 300, "container.stop": 40 });
    const old = (Date.now() - 3_600_000) / 1000;
    utimesSync(path, old, old);
    const loaded = loadBaselines(path);
    // A limiter that made no lifecycle call (`berth ps`) gives back what it was given.
    const limiter = createLimiter({ env: {}, baselines: loaded });
    expect(limiter.baselines()).toEqual(loaded);
    saveBaselines(path, limiter.baselines(), Date.now(), loaded);
    expect(statSync(path).mtimeMs).toBeCloseTo(old * 1000, -1);
    // A new latency or a new operation is written.
    saveBaselines(path, { ...loaded, "container.stop": 41 }, Date.now(), loaded);
    expect(loadBaselines(path)).toEqual({ "container.start": 300, "container.stop": 41 });
    saveBaselines(path, { ...loaded, "container.stop": 41, "network.create": 9 }, Date.now(), {
      ...loaded,
      "container.stop": 41,
    });
    expect(Object.keys(loadBaselines(path))).toHaveLength(3);
  });

  it("removes other endpoints' files once they are too old to be used", () => {
    const dir = tempDir();
    const old = (Date.now() - BASELINES_MAX_AGE_MS - 60_000) / 1000;
    const files = {
      stale: "limiter-ssh_root_127.0.0.1_40657.json",
      fresh: "limiter-tcp_127.0.0.1_2375.json",
      leftTemp: "limiter-unix_var_run_docker.sock.json.4242.tmp",
      notOurs: "notes.json",
    };
    for (const name of Object.values(files)) writeFileSync(join(dir, name), "{}");
    for (const name of [files.stale, files.leftTemp, files.notOurs]) utimesSync(join(dir, name), old, old);
    const path = join(dir, "limiter-unix_var_run_docker.sock.json");
    saveBaselines(path, { "container.start": 300 });
    expect(readdirSync(dir).sort()).toEqual(
      [files.fresh, files.notOurs, "limiter-unix_var_run_docker.sock.json"].sort(),
    );
  });
});
