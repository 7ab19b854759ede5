#!/usr/bin/env bash
# Runs every test tier in three lanes at once: the end-to-end files that share the one Docker
# Engine, one after another; the ones that start an engine of their own (mostly waiting out node
# timeouts); and everything else (unit, integration, e2e files without Docker) three files wide. Each lane prints its lines with its name in front; the run fails if either
# lane fails. With arguments, it is plain `vitest run` with them (one file, a project, -t ...).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$#" -gt 0 ]; then exec npx vitest run "$@"; fi

lane() {
  local name=$1
  shift
  # stdbuf keeps lines whole when both lanes write to one terminal or log.
  npx vitest run "$@" 2>&1 | stdbuf -oL sed "s/^/[$name] /"
  return "${PIPESTATUS[0]}"
}

lane docker --project e2e &
docker_lane=$!
lane own-engine --project e2e-own-engine &
own_lane=$!
lane rest --project unit --project integration --project e2e-processes &
rest_lane=$!

docker_rc=0
own_rc=0
rest_rc=0
wait "$docker_lane" || docker_rc=$?
wait "$own_lane" || own_rc=$?
wait "$rest_lane" || rest_rc=$?
printf '\n== test lanes: docker exit %s, own-engine exit %s, rest exit %s\n' "$docker_rc" "$own_rc" "$rest_rc"
[ "$docker_rc" = 0 ] && [ "$own_rc" = 0 ] && [ "$rest_rc" = 0 ]
