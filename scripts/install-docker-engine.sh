#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, for the container sandbox and its tests.
#   - installs Debian's docker.io with apt when `dockerd` is missing;
#   - starts `dockerd` in the background when `docker info` fails, then waits until it answers.
# Idempotent: a second run with a running engine does nothing. Needs root (CI runners and the dev
# container run as root); never reads stdin, so it works under CI=true.
#
# Usage: scripts/install-docker-engine.sh
# Env:   QF_DOCKERD_LOG   where dockerd writes its log (default /var/log/qf-dockerd.log)
#        QF_DOCKERD_WAIT  seconds to wait for the engine to answer (default 60)
set -euo pipefail

log() { printf 'install-docker-engine: %s\n' "$*" >&2; }

DOCKERD_LOG="${QF_DOCKERD_LOG:-/var/log/qf-dockerd.log}"
WAIT_SECONDS="${QF_DOCKERD_WAIT:-60}"

engine_answers() { docker info >/dev/null 2>&1; }
# dockerd's own pid file, not pgrep: procps is not on every minimal image.
dockerd_alive() {
  local pid
  pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

if command -v docker >/dev/null 2>&1 && engine_answers; then
  log "engine already answers; nothing to do"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "the engine does not answer and starting it needs root; run this script as root"
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "dockerd missing; installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null
  # --no-install-recommends keeps it small; iptables is needed for dockerd to start at all.
  apt-get install -y -q --no-install-recommends docker.io iptables ca-certificates </dev/null
fi

if ! command -v docker >/dev/null 2>&1; then
  log "docker client missing after installing docker.io"
  exit 1
fi

if ! engine_answers; then
  if dockerd_alive; then
    log "dockerd is running but not answering yet; waiting for it"
  else
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # A stale pid file (its process is gone) would stop dockerd from starting.
    rm -f /var/run/docker.pid
    # setsid + nohup: the daemon must outlive this script and the CI step's shell.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 "$WAIT_SECONDS"); do
    if engine_answers; then break; fi
    sleep 1
  done
fi

if ! engine_answers; then
  log "dockerd did not answer within ${WAIT_SECONDS}s; last lines of $DOCKERD_LOG:"
  tail -n 30 "$DOCKERD_LOG" >&2 || true
  exit 1
fi
log "engine answers: $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)"
