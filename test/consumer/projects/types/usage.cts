// The same from a CommonJS TypeScript file: `require` resolves to the CommonJS declarations.
import berth = require("berth-docker");
import jest = require("berth-docker/jest");

export const setup: () => Promise<void> = jest.globalSetup({ files: ["compose.yml"] });
export function isConfigError(error: unknown): boolean {
  return berth.isBerthError(error) && error.code === "BERTH_CONFIG";
}
