#!/usr/bin/env bash
# Runs a command against a private Podman API service: starts `podman system service` on a socket
# in a temp directory, with a containers.conf of its own (`default_ulimits = []`: Podman's default
# nofile limit is above many machines' hard limit, and every container start then fails), exports
# DOCKER_HOST for the command, and stops the service and removes the directory however it ends.
#   scripts/podman-service.sh -- node bin/berth.js validate --quick
set -euo pipefail

say() { printf 'podman-service: %s\n' "$*" >&2; }

[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { say "usage: $0 -- COMMAND [ARGS...]"; exit 2; }
command -v podman >/dev/null 2>&1 || { say "podman is not installed (run scripts/ensure-test-tools.sh)"; exit 2; }

dir=$(mktemp -d /tmp/berth-podman.XXXXXX)
printf '[containers]\ndefault_ulimits = []\n' >"$dir/containers.conf"
socket="$dir/podman.sock"
# In the temp directory: conmon writes an `oom` marker into its working directory on an OOM kill.
CONTAINERS_CONF="$dir/containers.conf" env -C "$dir" podman system service --time=0 "unix://$socket" >"$dir/service.log" 2>&1 &
service=$!

stop() {
  kill "$service" 2>/dev/null || true
  wait "$service" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT

for _ in $(seq 1 100); do
  if [ -S "$socket" ] && curl -fsS --unix-socket "$socket" http://podman/_ping >/dev/null 2>&1; then break; fi
  kill -0 "$service" 2>/dev/null || { say "the service ended at start:"; cat "$dir/service.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS --unix-socket "$socket" http://podman/_ping >/dev/null || { say "no answer on $socket"; exit 1; }
say "Podman $(podman --version | awk '{print $3}') answers on unix://$socket"

export DOCKER_HOST="unix://$socket" CONTAINERS_CONF="$dir/containers.conf"
status=0
"$@" || status=$?
exit "$status"
