import { useEnvironment } from "berth-docker/vitest";
import { describe, expect, it } from "vitest";

describe("the api service", () => {
  it("answers its health endpoint on the published port", async () => {
    const response = await fetch(useEnvironment().url("api", 8080, "/health"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("is also reachable through the exported environment variable", async () => {
    const address = process.env.API_8080;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`http://${address}/`)).text()).toBe("hello\n");
  });
});
