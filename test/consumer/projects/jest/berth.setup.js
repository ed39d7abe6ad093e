const { globalSetup } = require("berth-docker/jest");

module.exports = globalSetup({ files: ["../compose.yml"], cwd: __dirname });
