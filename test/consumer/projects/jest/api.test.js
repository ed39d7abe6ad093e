const { useEnvironment } = require("berth-docker/jest");
const { ConfigError, isBerthError } = require("berth-docker");

test("fetches from both services", async () => {
  const env = useEnvironment();
  expect(await (await fetch(env.url("web", 8080))).text()).toBe("web\n");
  expect(await (await fetch(env.url("api", 9000, "/health"))).json()).toEqual({ status: "ok" });
  expect(process.env.WEB_8080).toBe(env.endpoint("web", 8080).address);
});

test("an environment nobody set up is a berth ConfigError", () => {
  let error;
  try {
    useEnvironment("search");
  } catch (caught) {
    error = caught;
  }
  expect(isBerthError(error)).toBe(true);
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.code).toBe("BERTH_CONFIG");
});
