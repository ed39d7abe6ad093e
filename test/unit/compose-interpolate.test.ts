// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR} syntax is what these strings test.
import { describe, expect, it } from "vitest";
import { DotenvProblem, parseDotenv } from "../../src/stack/compose/dotenv.js";
import { ComposeError } from "../../src/stack/compose/errors.js";
import { expandTemplate, InterpolationProblem } from "../../src/stack/compose/interpolate.js";
import { ShellSplitProblem, shellSplit } from "../../src/stack/compose/shell-split.js";
import { caught } from "../support/caught.js";
import { FIXTURES, loadText } from "./compose-support.js";

const vars: Record<string, string> = { NAME: "world", EMPTY: "", PORT: "8080" };
const expand = (text: string, onUnset?: (name: string) => void) =>
  expandTemplate(text, { lookup: (name) => vars[name], onUnset });

describe("expandTemplate", () => {
  it.each([
    ["plain", "plain"],
    ["$NAME", "world"],
    ["${NAME}", "world"],
    ["hello ${NAME}!", "hello world!"],
    ["$NAME-$PORT", "world-8080"],
    ["${UNSET:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${EMPTY-fallback}", ""],
    ["${UNSET-fallback}", "fallback"],
    ["${NAME:-fallback}", "world"],
    ["${NAME:+alt}", "alt"],
    ["${EMPTY:+alt}", ""],
    ["${EMPTY+alt}", "alt"],
    ["${UNSET+alt}", ""],
    ["${UNSET:-${NAME}-nested}", "world-nested"],
    ["${UNSET:-${ALSO_UNSET:-deep}}", "deep"],
    ["$$NAME", "$NAME"],
    ["cost: $$5", "cost: $5"],
    ["$${NAME}", "${NAME}"],
    ["${NAME:?never used}", "world"],
    ["${EMPTY?only unset fails}", ""],
    ["${NAME:-a}}", "world}"],
  ])("%j -> %j", (text, result) => {
    expect(expand(text)).toBe(result);
  });

  it("reports unset variables without a default and uses an empty string", () => {
    const unset: string[] = [];
    expect(expand("a${UNSET}b$ALSO", (name) => unset.push(name))).toBe("ab");
    expect(unset).toEqual(["UNSET", "ALSO"]);
  });

  it("does not evaluate defaults it does not use", () => {
    expect(expand("${NAME:-${MISSING:?boom}}")).toBe("world");
  });

  it.each([
    ["${UNSET:?set UNSET please}", "required variable UNSET is missing a value: set UNSET please"],
    ["${EMPTY:?}", "required variable EMPTY is missing a value"],
    ["${UNSET?gone}", "required variable UNSET is missing a value: gone"],
    ["${NAME", "unterminated `${`"],
    ["${}", "invalid interpolation `${}`"],
    ["${1ABC}", "invalid interpolation"],
    ["${NAME:x}", "invalid interpolation"],
    ["price $5", "`$` must start a variable"],
    ["trailing $", "`$` must start a variable"],
  ])("refuses %j", (text, message) => {
    expect(() => expand(text)).toThrow(InterpolationProblem);
    expect(() => expand(text)).toThrow(message);
  });
});

describe("parseDotenv", () => {
  it("reads assignments, exports, quotes, comments and references", () => {
    const text = [
      "# a comment",
      "",
      "A=1",
      "export B=two words",
      "C='single $A quoted'",
      'D="double $A \\"quoted\\"\\nnext"',
      "E=value # trailing comment",
      "F=${A}-${MISSING:-x}",
      "G=",
      "H",
      "I=a=b",
    ].join("\n");
    expect(parseDotenv(text, { lookup: (name) => (name === "H" ? "from-env" : undefined) })).toEqual({
      A: "1",
      B: "two words",
      C: "single $A quoted",
      D: 'double 1 "quoted"\nnext',
      E: "value",
      F: "1-x",
      G: "",
      H: "from-env",
      I: "a=b",
    });
  });

  it("keeps raw values as written", () => {
    expect(parseDotenv("A=${X} 'q' # not a comment", { raw: true })).toEqual({
      A: "${X} 'q' # not a comment",
    });
  });

  it("names the line of a malformed entry", () => {
    const error = caught<DotenvProblem>(() => parseDotenv("A=1\nnot valid line\n"));
    expect(error).toBeInstanceOf(DotenvProblem);
    expect(error?.line).toBe(2);
    expect(error?.message).toContain("not valid line");
  });

  it("refuses unterminated quotes", () => {
    expect(() => parseDotenv('A="open')).toThrow(/unterminated double quote/);
    expect(() => parseDotenv("A='open")).toThrow(/unterminated single quote/);
  });
});

describe("shellSplit", () => {
  it.each([
    ["echo hello", ["echo", "hello"]],
    ["  spaced   out  ", ["spaced", "out"]],
    [`sh -c "echo \\"hi\\" there"`, ["sh", "-c", 'echo "hi" there']],
    [`echo 'single $X "quoted"'`, ["echo", 'single $X "quoted"']],
    [`a\\ b c`, ["a b", "c"]],
    [`--opt="x y"z`, ["--opt=x yz"]],
    [`""`, [""]],
    [`echo "a\\nb"`, ["echo", "a\\nb"]],
  ])("%j", (text, words) => {
    expect(shellSplit(text)).toEqual(words);
  });

  it.each(['echo "open', "echo 'open", "trailing\\"])("refuses %j", (text) => {
    expect(() => shellSplit(text)).toThrow(ShellSplitProblem);
  });
});

describe("interpolation in compose files", () => {
  it("uses the environment first, then the .env file next to the first file", async () => {
    const { project, warnings } = await (await import("../../src/stack/compose/index.js")).loadCompose({
      files: [`${FIXTURES}/good/interpolation/compose.yml`],
      env: { SHARED: "from-env", GREETING: "hi" },
    });
    const app = project.services.app!;
    expect(app.image).toBe("berth-fixture/busybox:1.35.0");
    expect(app.command).toEqual(["echo", "hi", "world", "cost: $5"]);
    expect(app.environment).toEqual({
      FROM_DOTENV: "from-dotenv",
      OVERRIDDEN: "from-env",
      DEFAULT_EMPTY: "fallback",
      DEFAULT_UNSET: "",
      ALT: "name-is-set",
      NESTED: "world-nested",
    });
    expect(app.ports[0]).toMatchObject({ target: 8080, hostIp: "127.0.0.1" });
    expect(app.memory.limitBytes).toBe(64 * 1024 ** 2);
    expect(warnings).toEqual([]);
  });

  it("warns once per unset variable", async () => {
    const { warnings } = await loadText(
      `services:\n  a:\n    image: "x:\${TAG}"\n    command: ["\${TAG}", "$OTHER"]\n`,
    );
    expect(warnings).toEqual([
      'The "OTHER" variable is not set. Defaulting to a blank string.',
      'The "TAG" variable is not set. Defaulting to a blank string.',
    ]);
  });

  it("interpolates values into typed fields (ports, sizes, booleans, numbers)", async () => {
    const { project } = await loadText(
      `services:\n  a:\n    image: x\n    ports: ["127.0.0.1:\${P}:80"]\n    mem_limit: \${M}\n    privileged: \${PRIV}\n    healthcheck:\n      test: ["CMD", "true"]\n      retries: \${R}\n`,
      { env: { P: "9000", M: "1g", PRIV: "true", R: "7" } },
    );
    const a = project.services.a!;
    expect(a.ports[0]).toMatchObject({ published: 9000, target: 80 });
    expect(a.memory.limitBytes).toBe(1024 ** 3);
    expect(a.privileged).toBe(true);
    expect(a.healthcheck?.retries).toBe(7);
  });

  it("an explicit env file replaces .env and must exist", async () => {
    const text = "services:\n  a:\n    image: x:${TAG}\n";
    const { project } = await loadText(text, {
      extra: { ".env": "TAG=dotenv\n", "ci.env": "TAG=ci\n" },
      envFile: "ci.env",
    });
    expect(project.services.a!.image).toBe("x:ci");
    const error = await caught(loadText(text, { envFile: "nope.env" }));
    expect(error).toBeInstanceOf(ComposeError);
    expect(error.message).toMatch(/nope\.env: env file cannot be read \(ENOENT\)/);
  });

  it("names the .env file and line of a malformed entry", async () => {
    const error = await caught(
      loadText("services:\n  a:\n    image: x\n", { extra: { ".env": "OK=1\n=bad\n" } }),
    );
    expect(error).toMatchObject({ code: "BERTH_COMPOSE", line: 2 });
    expect(String(error.file)).toMatch(/\.env$/);
  });
});
