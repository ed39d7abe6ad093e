#!/usr/bin/env bash
# Makes sure a headless Chromium is installed, for the test that renders `berth report`'s HTML.
# Idempotent: prints the browser's path and exits 0 when one is already there. Installs Debian's
# `chromium` package as root (under a lock, since parallel test workers may call this at once).
set -euo pipefail

say() { printf 'ensure-chromium: %s\n' "$*" >&2; }

find_browser() {
  local name
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if find_browser; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "no chromium found, and this is not a root Debian machine that could install it."
  say "Install Chromium (Debian: apt-get install chromium) to render berth's HTML reports."
  exit 1
fi

lock="${BERTH_APT_LOCK:-/tmp/berth-apt.lock}"
say "installing Debian's chromium package (one time, takes a minute)"
(
  flock 9
  # Another worker may have installed it while this one waited for the lock.
  if ! find_browser >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
) 9>"$lock"

find_browser
