#!/usr/bin/env bash
# Makes sure a Docker daemon answers, installing and starting one when this is a root Debian
# machine without it. Idempotent: does nothing when a daemon already answers.
set -euo pipefail

log_file="${BERTH_DOCKERD_LOG:-/var/log/berth-dockerd.log}"
wait_seconds="${BERTH_DOCKERD_WAIT:-60}"

say() { printf 'ensure-docker: %s\n' "$*" >&2; }

daemon_answers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

need_packages() {
  local missing=()
  command -v docker >/dev/null 2>&1 || missing+=(docker.io)
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  [ -x /bin/busybox ] && file_is_static /bin/busybox || missing+=(busybox-static)
  printf '%s\n' "${missing[@]}" | sort -u | grep -v '^$' || true
}

file_is_static() {
  # Fixture images are FROM scratch, so busybox must be the static build (Debian: busybox-static).
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'
  else
    [ -x "$1" ]
  fi
}

if daemon_answers && [ -z "$(need_packages | grep busybox || true)" ]; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if ! daemon_answers; then
    say "no Docker daemon answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}."
    say "berth's tests need one. Install Docker Engine (https://docs.docker.com/engine/install/),"
    say "start it, and make its socket readable by this user (or set DOCKER_HOST)."
  else
    say "a static busybox is missing (/bin/busybox); berth builds its fixture images from it."
    say "Install it as root: apt-get install busybox-static"
  fi
  exit 1
fi

missing=$(need_packages)
if [ -n "$missing" ]; then
  say "installing: $(echo $missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq $missing >/dev/null
fi

if daemon_answers; then
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [[ "$DOCKER_HOST" != unix:///var/run/docker.sock ]]; then
  say "DOCKER_HOST=$DOCKER_HOST does not answer; start that daemon or unset DOCKER_HOST."
  exit 1
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd (log: $log_file)"
  mkdir -p "$(dirname "$log_file")"
  nohup dockerd >>"$log_file" 2>&1 </dev/null &
  disown || true
fi

for _ in $(seq 1 "$wait_seconds"); do
  if [ -S /var/run/docker.sock ] && daemon_answers; then
    say "dockerd is up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done

say "dockerd did not answer within ${wait_seconds}s; see $log_file:"
tail -n 20 "$log_file" >&2 || true
exit 1
