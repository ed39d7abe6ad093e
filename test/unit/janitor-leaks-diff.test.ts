import { describe, expect, it } from "vitest";
import type { ResourceRef } from "../../src/janitor/errors.js";
import { diffResources } from "../../src/janitor/leaks.js";

const r = (kind: ResourceRef["kind"], id: string, labels: Record<string, string> = {}): ResourceRef => ({
  kind,
  id,
  name: `${kind}-${id}`,
  labels,
});

describe("leak diff", () => {
  const before = [r("container", "c1"), r("network", "n1"), r("volume", "v1")];

  it("finds what is new, per kind, and nothing that existed before", () => {
    const now = [...before, r("container", "c2"), r("network", "n2"), r("volume", "v2")];
    expect(diffResources(before, now).map((x) => x.id)).toEqual(["c2", "n2", "v2"]);
  });

  it("does not confuse a volume with a container of the same id", () => {
    const now = [...before, r("volume", "c1")];
    expect(diffResources(before, now)).toEqual([r("volume", "c1")]);
  });

  it("narrows to a label, ignoring resources of other runs", () => {
    const now = [
      ...before,
      r("container", "mine", { "berth.suite": "a" }),
      r("container", "theirs", { "berth.suite": "b" }),
      r("container", "bare"),
    ];
    const label = { key: "berth.suite", value: "a" };
    expect(diffResources(before, now, { label }).map((x) => x.id)).toEqual(["mine"]);
    expect(diffResources(before, now, { label, includeUnlabelled: true }).map((x) => x.id)).toEqual([
      "mine",
      "bare",
    ]);
  });
});
