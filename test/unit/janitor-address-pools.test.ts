import { describe, expect, it } from "vitest";
import { classifyEngineError } from "../../src/engine/classify.js";
import { isAddressPoolExhausted } from "../../src/janitor/address-pools.js";
import { AddressPoolsExhaustedError } from "../../src/janitor/errors.js";

const context = { operation: "network.create", endpoint: "unix:///var/run/docker.sock", resource: "berth-x" };

describe("address pool exhaustion", () => {
  it("recognises Engine <= 26's 404 answer", () => {
    const error = classifyEngineError(
      {
        statusCode: 404,
        json: {
          message:
            "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
        },
      },
      context,
    );
    expect(isAddressPoolExhausted(error)).toBe(true);
  });

  it("recognises newer engines' 400 answer", () => {
    const error = classifyEngineError(
      { statusCode: 400, json: { message: "all predefined address pools have been fully subnetted" } },
      context,
    );
    expect(isAddressPoolExhausted(error)).toBe(true);
  });

  it("does not mistake other network failures for it", () => {
    const conflict = classifyEngineError(
      { statusCode: 409, json: { message: "network with name x already exists" } },
      context,
    );
    expect(isAddressPoolExhausted(conflict)).toBe(false);
    expect(isAddressPoolExhausted(new Error("socket hang up"))).toBe(false);
    expect(isAddressPoolExhausted(undefined)).toBe(false);
  });

  it("gives an error with the counts and the advice to run berth gc", () => {
    const error = new AddressPoolsExhaustedError("berth-abc_default", {
      networkCount: 33,
      berthNetworkCount: 29,
      reclaimedNetworks: 0,
    });
    expect(error.code).toBe("BERTH_ADDRESS_POOLS_EXHAUSTED");
    expect(error.message).toContain("berth-abc_default");
    expect(error.message).toContain("33 networks");
    expect(error.message).toContain("29 of them berth's");
    expect(error.hint).toContain("berth gc");
    expect(error.toJSON()).toMatchObject({ networkCount: 33, berthNetworkCount: 29, reclaimedNetworks: 0 });
  });
});
