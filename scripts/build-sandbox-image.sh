#!/usr/bin/env bash
# Builds the container sandbox's image offline from the machine's own Debian archive:
#   debootstrap --variant=minbase --include=python3,python3-pytest bookworm → docker import.
# The archive address is read from the apt sources at run time and never written anywhere in
# the repository. Skips the build when the image already exists, unless --force.
#
# Usage: scripts/build-sandbox-image.sh [--force] [--tag NAME:TAG]
#   default tag: qualityfoundry/python-sandbox:bookworm (the tag policies name in sandbox.container.image)
# Needs root (debootstrap) and a running engine (scripts/install-docker-engine.sh).
set -euo pipefail

log() { printf 'build-sandbox-image: %s\n' "$*" >&2; }

TAG="qualityfoundry/python-sandbox:bookworm"
SUITE="bookworm"
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --tag) shift; TAG="${1:?--tag needs NAME:TAG}" ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) log "unknown argument: $1 (expected --force or --tag NAME:TAG)"; exit 2 ;;
  esac
  shift
done

if ! docker info >/dev/null 2>&1; then
  log "the Docker engine does not answer; run scripts/install-docker-engine.sh first"
  exit 1
fi

if [ "$FORCE" -eq 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "image $TAG already exists ($(docker image inspect --format '{{.Id}}' "$TAG")); use --force to rebuild"
  exit 0
fi

# Prints the URI of the main Debian archive for $SUITE: a "deb" entry whose suites include
# exactly "$SUITE" (not -security / -updates) with component main. Reads deb822 *.sources files
# and one-line *.list files; comments and disabled files are ignored.
debian_archive_uri() {
  local f
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    awk -v suite="$SUITE" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && (" " comps " ") ~ / main / && enabled != "no" && uris != "") {
          split(uris, u, " "); print u[1]; found = 1; exit
        }
        types = ""; uris = ""; suites = ""; comps = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { key = tolower($1); sub(/:$/, "", key); $1 = ""; val = $0; sub(/^[ \t]+/, "", val) }
      key == "types" { types = val } key == "uris" { uris = val } key == "suites" { suites = val }
      key == "components" { comps = val } key == "enabled" { enabled = tolower(val) }
      END { if (!found) flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [options] URI SUITE COMPONENTS...
    awk -v suite="$SUITE" '
      $1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) != suite) next
        for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit }
      }
    ' "$f"
  done
}

ARCHIVE="$(debian_archive_uri | head -n 1)"
if [ -z "$ARCHIVE" ]; then
  log "no Debian archive for $SUITE (main) found in /etc/apt/sources.list or /etc/apt/sources.list.d/"
  exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  log "debootstrap missing; installing it with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null
  apt-get install -y -q --no-install-recommends debootstrap </dev/null
fi

KEYRING_ARGS=()
if [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
  KEYRING_ARGS=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
fi

WORK="$(mktemp -d /tmp/qf-sandbox-rootfs.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"

log "debootstrap $SUITE (minbase + python3 + python3-pytest) into $ROOTFS"
debootstrap --variant=minbase --include=python3,python3-pytest "${KEYRING_ARGS[@]}" \
  "$SUITE" "$ROOTFS" "$ARCHIVE" </dev/null >"$WORK/debootstrap.log" 2>&1 || {
  log "debootstrap failed; last lines of its log:"; tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }

# The image must not carry the build machine's apt sources (they name the archive) nor caches.
# debootstrap's own log names the archive too.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/etc/apt/sources.list.d/* \
  "$ROOTFS"/var/log/bootstrap.log
: >"$ROOTFS/etc/apt/sources.list"

OLD_ID="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
log "importing as $TAG"
tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  - "$TAG" >/dev/null
NEW_ID="$(docker image inspect --format '{{.Id}}' "$TAG")"
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ]; then
  # The rebuilt tag left the old image dangling; drop it unless a container still uses it.
  docker image rm "$OLD_ID" >/dev/null 2>&1 || true
fi
log "built $TAG: $(docker image inspect --format '{{.Id}} ({{.Size}} bytes)' "$TAG")"
