import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { FrameDecoder } from "../../src/engine/demux.js";
import { parseSshHost, resolveDockerEndpoint } from "../../src/engine/docker-host.js";
import { buildQuery, pullQuery } from "../../src/engine/engine.js";
import { ConfigError } from "../../src/engine/errors.js";
import { encodeQuery, jsonLines, readBody } from "../../src/engine/http.js";
import { tarFiles } from "../../src/engine/tar.js";
import { sshCommand } from "../../src/engine/transport.js";

function frame(kind: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe("encodeQuery", () => {
  it("sends objects as JSON, arrays as repeated keys, and leaves out undefined", () => {
    const query = encodeQuery({
      all: true,
      filters: { label: ["a=b"] },
      changes: ["ENV A=1", 'CMD ["sh"]'],
      since: undefined,
      tail: "all",
    });
    const params = new URLSearchParams(query.slice(1));
    expect(params.get("all")).toBe("true");
    expect(JSON.parse(params.get("filters")!)).toEqual({ label: ["a=b"] });
    expect(params.getAll("changes")).toEqual(["ENV A=1", 'CMD ["sh"]']);
    expect(params.has("since")).toBe(false);
    expect(encodeQuery({ a: undefined })).toBe("");
  });
});

describe("pullQuery and buildQuery", () => {
  it("splits the tag off, keeps digests whole, and pulls latest for a bare name", () => {
    expect(pullQuery("busybox")).toEqual({ fromImage: "busybox", tag: "latest" });
    expect(pullQuery("127.0.0.1:5000/app:1.2")).toEqual({ fromImage: "127.0.0.1:5000/app", tag: "1.2" });
    expect(pullQuery("127.0.0.1:5000/app")).toEqual({ fromImage: "127.0.0.1:5000/app", tag: "latest" });
    expect(pullQuery("app@sha256:abc")).toEqual({ fromImage: "app@sha256:abc" });
  });
  it("sends only the build parameters that are set", () => {
    expect(buildQuery({ tag: "t:1" })).toEqual({ t: "t:1", rm: true, forcerm: true });
  });
});

describe("FrameDecoder", () => {
  it("decodes frames split anywhere across chunks and routes stderr", async () => {
    const stderr = new PassThrough();
    const decoder = new FrameDecoder(stderr);
    const bytes = Buffer.concat([frame(1, "hello "), frame(2, "oops"), frame(1, "world")]);
    for (let i = 0; i < bytes.length; i += 3) decoder.write(bytes.subarray(i, i + 3));
    decoder.end();
    stderr.end();
    expect((await readBody(decoder)).toString()).toBe("hello world");
    expect((await readBody(stderr)).toString()).toBe("oops");
  });
});

describe("jsonLines", () => {
  it("parses lines split across chunks and a last line without a newline", async () => {
    const stream = new PassThrough();
    stream.write('{"a":1}\n{"b"');
    stream.end(':2}\n\n{"c":3}');
    const seen: unknown[] = [];
    for await (const value of jsonLines(stream)) seen.push(value);
    expect(seen).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });
});

describe("tarFiles", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes exactly the files given (long names, symlinks), which tar reads back", async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-tar-"));
    const src = join(dir, "src");
    const deep = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(60)}`;
    const veryLong = "g".repeat(180);
    mkdirSync(join(src, deep), { recursive: true });
    writeFileSync(join(src, "Dockerfile"), "FROM scratch\n");
    writeFileSync(join(src, ".dockerignore"), "Dockerfile\n");
    writeFileSync(join(src, "skipped.txt"), "not listed");
    writeFileSync(join(src, deep, "file.txt"), "deep");
    writeFileSync(join(src, veryLong), Buffer.alloc(70_000, 7));
    symlinkSync("Dockerfile", join(src, "link"));
    const files = ["Dockerfile", "link", `${deep}/file.txt`, veryLong];
    const archive = await readBody(tarFiles(src, files));
    expect(archive.length % 512).toBe(0);
    const out = join(dir, "out");
    mkdirSync(out);
    const tar = spawnSync("tar", ["-x", "-C", out], { input: archive });
    expect(tar.stderr.toString()).toBe("");
    expect(tar.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["Dockerfile", "d".repeat(60), veryLong, "link"].sort());
    expect(readFileSync(join(out, deep, "file.txt"), "utf8")).toBe("deep");
    expect(readFileSync(join(out, veryLong)).equals(Buffer.alloc(70_000, 7))).toBe(true);
    expect(readFileSync(join(out, "link"), "utf8")).toBe("FROM scratch\n");
    const listed = spawnSync("tar", ["-tv"], { input: archive }).stdout.toString();
    expect(listed).toContain("root/root");
  });
});

describe("ssh endpoints", () => {
  it("parses ssh://[user@]host[:port] and refuses paths and bad ports", () => {
    expect(resolveDockerEndpoint({ DOCKER_HOST: "ssh://deploy@build-host:2222" })).toEqual({
      kind: "ssh",
      url: "ssh://deploy@build-host:2222",
      host: "build-host",
      user: "deploy",
      port: 2222,
      source: "DOCKER_HOST",
    });
    expect(parseSshHost("ssh://[::1]")).toMatchObject({ host: "::1" });
    expect(parseSshHost("ssh://box")).toMatchObject({ kind: "ssh", url: "ssh://box", host: "box" });
    expect(() => parseSshHost("ssh://box/path")).toThrow(ConfigError);
    expect(() => parseSshHost("ssh://box:70000")).toThrow(/ssh:\/\/\[USER@\]HOST\[:PORT\]/);
  });
  it("runs docker system dial-stdio on the remote side, with BERTH_SSH_CONFIG as -F", () => {
    const endpoint = resolveDockerEndpoint({
      DOCKER_HOST: "ssh://me@box:2200",
      BERTH_SSH_CONFIG: "/tmp/cfg",
    });
    if (endpoint.kind !== "ssh") throw new Error("expected ssh");
    const args = sshCommand(endpoint);
    expect(args.join(" ")).toBe(
      "-o ConnectTimeout=30 -T -F /tmp/cfg -l me -p 2200 -- box docker system dial-stdio",
    );
  });
});

describe("no dockerode", () => {
  it("is not imported anywhere in src/ nor a dependency", () => {
    const root = join(import.meta.dirname, "..", "..");
    const offenders: string[] = [];
    const walk = (d: string) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const full = join(d, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.[cm]?[jt]s$/.test(entry.name) && /["']dockerode["']/.test(readFileSync(full, "utf8")))
          offenders.push(full);
      }
    };
    walk(join(root, "src"));
    expect(offenders).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<
      string,
      Record<string, string>
    >;
    for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"])
      expect(Object.keys(pkg[field] ?? {}).filter((name) => name.includes("dockerode"))).toEqual([]);
  });
});
