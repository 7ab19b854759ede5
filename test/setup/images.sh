#!/usr/bin/env bash
# Builds the images the end-to-end tests run, from test/fixtures/images and Debian's static
# busybox (no registry is reachable, so everything is FROM scratch). Idempotent: an image whose
# content-hash label matches the current sources is left alone, so a warm run costs no build.
#
#   berth-test/httpd:1   GET / -> "v1"
#   berth-test/httpd:2   GET / -> "v2"
#   both: GET /healthz -> "ok", GET /cgi-bin/whoami -> {"version","hostname","replica"},
#         GET /cgi-bin/env -> the container's environment; busybox applets on PATH.
set -euo pipefail

busybox=${BERTH_BUSYBOX:-/bin/busybox}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
src=$root/test/fixtures/images/httpd
label=dev.berth.test.content-hash

log() { printf '[images] %s\n' "$*"; }
fail() {
  printf '[images] FAILED: %s\n' "$*" >&2
  exit 1
}

[ -x "$busybox" ] || fail "$busybox is missing (apt-get install busybox-static)"
# A dynamically linked busybox would not run in a scratch image.
if ldd "$busybox" >/dev/null 2>&1; then fail "$busybox is not statically linked (need busybox-static)"; fi

# The hash covers every source file, its executable bit (CGI scripts need it) and busybox.
content_hash() {
  (
    cd "$src"
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    find . -type f -perm -u+x | LC_ALL=C sort
    sha256sum <"$busybox"
  ) | sha256sum | cut -c1-32
}

hash=$(content_hash)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

build() {
  local version=$1 tag=$2 current
  current=$(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$tag" 2>/dev/null || true)
  if [ "$current" = "$hash" ]; then
    log "$tag is up to date"
    return
  fi
  if [ ! -e "$ctx/busybox" ]; then
    cp -a "$src/." "$ctx/"
    cp "$busybox" "$ctx/busybox"
  fi
  log "building $tag"
  # The legacy builder needs no buildx plugin; its deprecation notice is noise unless it fails.
  if ! out=$(DOCKER_BUILDKIT=0 docker build -q --build-arg "VERSION=$version" --label "$label=$hash" \
    -t "$tag" "$ctx" 2>&1); then
    printf '%s\n' "$out" >&2
    fail "docker build of $tag failed"
  fi
}

build v1 berth-test/httpd:1
build v2 berth-test/httpd:2
