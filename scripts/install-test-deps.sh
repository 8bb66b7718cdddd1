#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (as root), then returns:
# npm packages, pytest, PostgreSQL's server binaries, Chromium, a Docker engine and the sandbox image.
# Safe to run again: each step checks first. Never reads stdin.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'install-test-deps: %s\n' "$*" >&2; }
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then apt-get update -q </dev/null; apt_updated=1; fi
  apt-get install -y -q --no-install-recommends "$@" </dev/null
}

if ! command -v git >/dev/null 2>&1; then log "installing git"; apt_install git; fi

if ! python3 -c 'import pytest' >/dev/null 2>&1; then
  log "pytest missing; installing Debian's python3-pytest"
  apt_install python3 python3-pytest python3-venv
fi

# The PostgreSQL tests start a real server from initdb/pg_ctl/postgres; install them when absent.
if ! command -v initdb >/dev/null 2>&1; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$pg_bin" ]; then log "installing PostgreSQL server binaries"; apt_install postgresql; fi
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  for tool in initdb pg_ctl postgres; do ln -sf "$pg_bin/$tool" "/usr/local/bin/$tool"; done
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# The dashboard's tests drive Debian's headless Chromium (test/support/chromium.ts).
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-headless-shell >/dev/null 2>&1; then
  log "installing Chromium"; apt_install chromium
fi

bash scripts/install-docker-engine.sh
bash scripts/build-sandbox-image.sh
log "ready"
