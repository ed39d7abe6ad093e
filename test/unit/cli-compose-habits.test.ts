import { describe, expect, it } from "vitest";
import { interleave, parseSince, parseTimestamped, renderLines } from "../../src/cli/log-lines.js";
import { parseSeconds } from "../../src/cli/parse.js";
import { projectsNamedAfter } from "../../src/cli/project-selection.js";

describe("logs of several services", () => {
  it("interleaves lines by the daemon's timestamps, with padded prefixes", () => {
    const db = parseTimestamped("db", "2026-12-02T10:00:00.5Z db one\n2026-12-02T10:00:02Z db two\n");
    const web = parseTimestamped("web-app", "2026-12-02T10:00:01.000000001Z web one\n");
    expect(renderLines(interleave([...db, ...web]))).toBe(
      "db      | db one\nweb-app | web one\ndb      | db two\n",
    );
    expect(renderLines(interleave([...web, ...db]), { timestamps: true, noPrefix: true })).toBe(
      "2026-12-02T10:00:00.5Z db one\n2026-12-02T10:00:01.000000001Z web one\n2026-12-02T10:00:02Z db two\n",
    );
  });

  it("keeps a line without a timestamp at the time of the one before", () => {
    expect(parseTimestamped("a", "2026-12-02T10:00:00Z x\ncontinued\n")).toEqual([
      { service: "a", time: "2026-12-02T10:00:00Z", text: "x" },
      { service: "a", time: "2026-12-02T10:00:00Z", text: "continued" },
    ]);
  });

  it("reads --since as Unix seconds, RFC 3339, or a duration back from now", () => {
    const now = Date.parse("2026-12-02T10:00:00Z");
    expect(parseSince("1700000000")).toBe(1_700_000_000);
    expect(parseSince("2026-12-02T09:00:00Z")).toBe(now / 1000 - 3600);
    expect(parseSince("10m", now)).toBe(now / 1000 - 600);
    expect(() => parseSince("yesterday")).toThrow(/invalid duration/);
  });
});

describe("durations on the command line", () => {
  it("take plain seconds or a unit, the same for every flag", () => {
    expect(parseSeconds("30")).toBe(30);
    expect(parseSeconds("1.5")).toBe(1.5);
    expect(parseSeconds("90s")).toBe(90);
    expect(parseSeconds("2m")).toBe(120);
    expect(parseSeconds("500ms")).toBe(0.5);
    expect(() => parseSeconds("-1")).toThrow(/Expected seconds/);
    expect(() => parseSeconds("soon")).toThrow(/Expected seconds/);
  });
});

describe("finding the project of a compose file", () => {
  it("matches the file's name exactly or with berth's per-run suffix", () => {
    expect(
      projectsNamedAfter("shop", ["shop", "shop-1a2b3c4d", "shop-x", "shopping-1a2b3c4d", "shop-1a2b3c4d"]),
    ).toEqual(["shop", "shop-1a2b3c4d"]);
    expect(projectsNamedAfter("a.b", ["aab-1a2b3c4d"])).toEqual([]);
  });
});
