// What dist/cli/bundle/loader.cjs holds: the modules the commands import lazily to load Compose
// files (YAML, zod, the schema), in a file of their own (scripts/build-cli.mjs). The exports are
// those of the modules it stands for.
export * from "../memory/profile-files.js";
export * from "../stack/compose/load.js";
