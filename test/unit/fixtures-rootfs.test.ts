// The pure parts of the package-built fixture images: which mirror apt uses, which packages a
// simulated install brings and under which archive names, the import's --change list, and
// recipe hashes that move exactly when a recipe does.
import { describe, expect, it } from "vitest";
import { mirrorFromSources } from "../../src/fixtures/debian-mirror.js";
import { POSTGRES_IMAGE, REFERENCE_BASE, REFERENCE_IMAGES } from "../../src/fixtures/reference-images.js";
import { importChanges, parseSimulatedInstall, recipeHash } from "../../src/fixtures/rootfs.js";

describe("mirrorFromSources", () => {
  it("reads the deb822 stanza that serves the suite, not the security one", () => {
    const text = [
      "Types: deb",
      "# http://snapshot.debian.org/archive/debian/20250520T000000Z",
      "URIs: http://deb.example.org/debian",
      "Suites: bookworm bookworm-updates",
      "Components: main",
      "",
      "Types: deb",
      "URIs: http://deb.example.org/debian-security",
      "Suites: bookworm-security",
      "Components: main",
    ].join("\n");
    expect(mirrorFromSources([text], "bookworm")).toBe("http://deb.example.org/debian");
    expect(mirrorFromSources([text], "bookworm-security")).toBe("http://deb.example.org/debian-security");
  });

  it("reads one-line sources, with options, and skips other suites and deb-src", () => {
    const lines = [
      "deb-src http://src.example.org/debian bookworm main",
      "deb https://packages.example.com/apt cloud-sdk-bookworm main",
      "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example.org/debian bookworm main",
    ].join("\n");
    expect(mirrorFromSources([lines], "bookworm")).toBe("http://mirror.example.org/debian");
    expect(mirrorFromSources([lines], "trixie")).toBeUndefined();
  });
});

describe("parseSimulatedInstall", () => {
  it("names each package's archive file as apt stores it, epoch escaped", () => {
    const output = [
      "Reading package lists...",
      "NOTE: This is only a simulation!",
      "Inst libllvm14 (1:14.0.6-12 Debian:12.11/stable [amd64])",
      "Inst perl-modules-5.36 (5.36.0-7+deb12u3 Debian:12.11/stable [all])",
      "Inst libssl3 [3.0.15-1~deb12u1] (3.0.20-1~deb12u2 Debian-Security:12/stable-security [amd64])",
      "Conf libllvm14 (1:14.0.6-12 Debian:12.11/stable [amd64])",
    ].join("\n");
    expect(parseSimulatedInstall(output)).toEqual([
      { name: "libllvm14", file: "libllvm14_1%3a14.0.6-12_amd64.deb" },
      { name: "perl-modules-5.36", file: "perl-modules-5.36_5.36.0-7+deb12u3_all.deb" },
      { name: "libssl3", file: "libssl3_3.0.20-1~deb12u2_amd64.deb" },
    ]);
  });
});

describe("importChanges", () => {
  it("turns an image config and labels into docker import --change instructions", () => {
    expect(
      importChanges(
        {
          entrypoint: ["/e"],
          cmd: ["postgres", "-c", "a=b"],
          env: { PATH: "/bin", LANG: "C.UTF-8" },
          expose: [5432],
        },
        { "berth.recipe": "abc" },
      ),
    ).toEqual([
      "ENV PATH=/bin",
      "ENV LANG=C.UTF-8",
      "EXPOSE 5432",
      'ENTRYPOINT ["/e"]',
      'CMD ["postgres","-c","a=b"]',
      'LABEL "berth.recipe"="abc"',
    ]);
  });
});

describe("recipeHash", () => {
  it("is stable for a recipe and moves when the recipe, the base or the builder changes", () => {
    const hash = recipeHash(REFERENCE_BASE, POSTGRES_IMAGE, "1");
    expect(recipeHash(REFERENCE_BASE, { ...POSTGRES_IMAGE }, "1")).toBe(hash);
    expect(recipeHash(REFERENCE_BASE, { ...POSTGRES_IMAGE, packages: ["postgresql-16"] }, "1")).not.toBe(
      hash,
    );
    expect(recipeHash({ ...REFERENCE_BASE, suite: "trixie" }, POSTGRES_IMAGE, "1")).not.toBe(hash);
    expect(recipeHash(REFERENCE_BASE, POSTGRES_IMAGE, "2")).not.toBe(hash);
  });

  it("differs between the reference images", () => {
    const hashes = REFERENCE_IMAGES.map((r) => recipeHash(REFERENCE_BASE, r, "1"));
    expect(new Set(hashes).size).toBe(REFERENCE_IMAGES.length);
  });
});
