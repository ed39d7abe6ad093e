import { describe, expect, it } from "vitest";
import { expandReplicas } from "../../src/stack/replicas.js";
import { loadText } from "./compose-support.js";

async function project(yaml: string) {
  return (await loadText(yaml)).project;
}

describe("expandReplicas", () => {
  it("runs replica K of NAME as the service NAME-K, with the same settings and dependencies", async () => {
    const expanded = expandReplicas(
      await project(
        "services:\n  db:\n    image: x\n  web:\n    image: x\n    ports: ['80']\n    depends_on: [db]\n    deploy: {replicas: 3}\n",
      ),
    );
    expect(Object.keys(expanded.services).sort()).toEqual(["db", "web", "web-2", "web-3"]);
    expect(expanded.services.web!.replica).toBeUndefined();
    expect(expanded.services["web-3"]).toMatchObject({
      name: "web-3",
      replica: { of: "web", index: 3 },
      ports: [{ target: 80 }],
      dependsOn: [{ service: "db" }],
    });
    expect(expanded.services["web-3"]!.replicas).toBeUndefined();
  });

  it("leaves out a service with 0 replicas, and refuses one that others need", async () => {
    const optional = expandReplicas(
      await project(
        "services:\n  a:\n    image: x\n    scale: 0\n  b:\n    image: x\n    depends_on: {a: {required: false}}\n",
      ),
    );
    expect(Object.keys(optional.services)).toEqual(["b"]);
    expect(optional.services.b!.dependsOn).toEqual([]);
    const needed = await project(
      "services:\n  a:\n    image: x\n    scale: 0\n  b:\n    image: x\n    depends_on: [a]\n",
    );
    expect(() => expandReplicas(needed)).toThrow(/depends on a, which has 0 replicas/);
  });

  it("refuses a replica name that another service has", async () => {
    const clash = await project("services:\n  web:\n    image: x\n    scale: 2\n  web-2:\n    image: x\n");
    expect(() => expandReplicas(clash)).toThrow(/would be named web-2, which is another service/);
  });
});
