#!/usr/bin/env bash
# Runs every test tier in four lanes at once: the end-to-end files that share the one Docker
# Engine, one after another; those on a second engine the lane starts (two nodes, back-offs:
# mostly waiting), one after another; the agent fault test (minutes of node timeouts on an engine
# of its own) with the CLI workflow and the dashboard stub test beside it; and everything else
# (unit, integration, e2e files without Docker) three files wide. Each lane prints its lines with its name in front; the run fails if any lane fails. With arguments, it is plain `vitest run` with them (one file, a project, -t ...).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$#" -gt 0 ]; then exec npx vitest run "$@"; fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

lane() {
  local name=$1
  shift
  # stdbuf keeps lines whole when both lanes write to one terminal or log; each lane's lines are
  # kept too, so a failing lane's failures can be shown again at the end, where a log's tail is.
  npx vitest run "$@" 2>&1 | stdbuf -oL sed "s/^/[$name] /" | tee "$logs/$name.log"
  return "${PIPESTATUS[0]}"
}

# The failures of a lane: vitest's summary of failed tests, from its "Failed Tests" heading on.
failures_of() {
  sed 's/\x1b\[[0-9;]*m//g' "$logs/$1.log" | awk '/Failed Tests|Failed Suites|Unhandled Errors/ { on = 1 } on' | head -150
}

lane docker --project e2e &
docker_lane=$!
lane own-engine --project e2e-own-engine &
own_lane=$!
lane faults --project e2e-faults &
faults_lane=$!
lane rest --project unit --project integration --project e2e-processes &
rest_lane=$!

docker_rc=0
own_rc=0
faults_rc=0
rest_rc=0
wait "$docker_lane" || docker_rc=$?
wait "$own_lane" || own_rc=$?
wait "$faults_lane" || faults_rc=$?
wait "$rest_lane" || rest_rc=$?
for lane_rc in "docker $docker_rc" "own-engine $own_rc" "faults $faults_rc" "rest $rest_rc"; do
  set -- $lane_rc
  if [ "$2" != 0 ]; then
    printf '\n== failures of lane %s (exit %s)\n' "$1" "$2"
    failures_of "$1"
  fi
done
printf '\n== test lanes: docker exit %s, own-engine exit %s, faults exit %s, rest exit %s\n' \
  "$docker_rc" "$own_rc" "$faults_rc" "$rest_rc"
[ "$docker_rc" = 0 ] && [ "$own_rc" = 0 ] && [ "$faults_rc" = 0 ] && [ "$rest_rc" = 0 ]
