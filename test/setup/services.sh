#!/usr/bin/env bash
# Brings up everything Berth's test tiers need on a Debian 12 machine without systemd, as root:
# PostgreSQL 15 (role and database berth/berth on 127.0.0.1:5432), the Docker Engine, a local
# registry with basic auth on 127.0.0.1:5000, the test images, and an ACME test CA (pebble, with
# pebble-challtestsrv as the DNS server of the test host names). Safe to run any number of
# times: each step first checks whether its work is already done, so a warm run is quick.
# Exits non-zero, naming the service, when something cannot be made to work.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pg_version=15
pg_cluster=main
pg_max_connections=500
db_url=postgres://berth:berth@127.0.0.1:5432/berth
registry=127.0.0.1:5000
registry_user=berth
registry_password=berth-secret
registry_dir=/var/lib/berth-test-registry
private_image=$registry/berth-test/private:1
dockerd_log=/var/log/dockerd.log
packages=(docker.io tini docker-registry busybox-static chromium apache2-utils postgresql curl iptables iproute2 pebble openssl)
# The ACME test CA (test/support/pebble.ts): its directory over HTTPS with a certificate from a CA
# this script makes (ca.pem, which the tests trust), HTTP-01 validation on pebble_http_port of the
# address a test host name resolves to (127.0.0.1 unless a test maps it elsewhere).
pebble_dir=/var/lib/berth-test-pebble
pebble_listen=127.0.0.1:14000
pebble_management=127.0.0.1:15000
pebble_http_port=5002
pebble_tls_port=5001
pebble_dns=127.0.0.1:8053
pebble_dns_management=127.0.0.1:8055

export DEBIAN_FRONTEND=noninteractive
started=$(date +%s%N)

log() { printf '[services] %s\n' "$*"; }
fail() {
  printf '[services] FAILED: %s\n' "$*" >&2
  exit 1
}
step_started=0
step() {
  step_started=$(date +%s%N)
  log "$*"
}
step_done() { log "  done in $(elapsed "$step_started")"; }
elapsed() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1fs", (b - a) / 1e9 }'; }

[ "$(id -u)" = 0 ] || fail "must run as root (it installs packages and starts daemons)"

# --- packages -------------------------------------------------------------------------------
step "packages"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "  installing ${missing[*]}"
  # Only refresh the lists when they are absent or the install cannot find a package.
  if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then apt-get update -qq; fi
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/berth-apt.log 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/berth-apt.log 2>&1 ||
      {
        tail -20 /tmp/berth-apt.log >&2
        fail "apt-get install ${missing[*]}"
      }
  fi
else
  log "  all present"
fi
step_done

# --- PostgreSQL -----------------------------------------------------------------------------
step "PostgreSQL $pg_version/$pg_cluster"
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
psql_admin() { as_postgres psql -X -q -A -t -v ON_ERROR_STOP=1 -p 5432 "$@"; }
if ! pg_lsclusters -h | awk -v v="$pg_version" -v c="$pg_cluster" '$1 == v && $2 == c { f = 1 } END { exit !f }'; then
  log "  creating cluster"
  pg_createcluster -p 5432 "$pg_version" "$pg_cluster" >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$pg_version" -v c="$pg_cluster" '$1 == v && $2 == c && $4 ~ /online/ { f = 1 } END { exit !f }'; then
  log "  starting cluster"
  pg_ctlcluster "$pg_version" "$pg_cluster" start ||
    fail "pg_ctlcluster $pg_version $pg_cluster start (see /var/log/postgresql/postgresql-$pg_version-$pg_cluster.log)"
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p 5432 || fail "PostgreSQL does not accept connections on 127.0.0.1:5432"
# Test files that run side by side each start servers with pools of their own: Debian's 100
# connections run out when both test lanes are busy ("sorry, too many clients already").
if [ "$(psql_admin -c 'SHOW max_connections')" -lt "$pg_max_connections" ]; then
  log "  raising max_connections to $pg_max_connections (a restart)"
  psql_admin -c "ALTER SYSTEM SET max_connections = $pg_max_connections" >/dev/null
  pg_ctlcluster "$pg_version" "$pg_cluster" restart ||
    fail "pg_ctlcluster $pg_version $pg_cluster restart (see /var/log/postgresql/postgresql-$pg_version-$pg_cluster.log)"
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 0.5
  done
  pg_isready -q -h 127.0.0.1 -p 5432 || fail "PostgreSQL does not accept connections after its restart"
fi

psql_admin <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'berth') THEN
    CREATE ROLE berth LOGIN CREATEDB PASSWORD 'berth';
  END IF;
END
$$;
SQL
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'berth'")" != 1 ]; then
  psql_admin -c 'CREATE DATABASE berth OWNER berth'
fi
pg_login() { PGPASSWORD=berth PGCONNECT_TIMEOUT=5 psql -X -q -A -t -w "$db_url" -c "$1" 2>&1; }
if [ "$(pg_login 'SELECT 1')" != 1 ]; then
  # A role left over with other attributes or password, or a pg_hba without a password rule
  # for 127.0.0.1: repair both, then check again.
  psql_admin -c "ALTER ROLE berth LOGIN CREATEDB PASSWORD 'berth'"
  hba=$(psql_admin -c 'SHOW hba_file')
  if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+(scram-sha-256|md5)' "$hba"; then
    log "  allowing password logins on 127.0.0.1 in $hba"
    sed -i '1i host all all 127.0.0.1/32 scram-sha-256' "$hba"
    psql_admin -c 'SELECT pg_reload_conf()' >/dev/null
  fi
  result=$(pg_login 'SELECT 1')
  [ "$result" = 1 ] || fail "cannot log in as berth at $db_url: $result"
fi
[ "$(pg_login "SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user")" = t ] ||
  psql_admin -c 'ALTER ROLE berth CREATEDB'
pg_server_version=$(pg_login 'SHOW server_version')
step_done

# --- Docker Engine --------------------------------------------------------------------------
step "Docker Engine"
docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

# Starts dockerd detached with the given flags; returns non-zero when it dies or stays silent
# for 60 s. Its output for this attempt is left in $attempt_log for the caller to diagnose.
attempt_log=
start_dockerd() {
  local from pid
  : >>"$dockerd_log"
  from=$(($(stat -c %s "$dockerd_log") + 1))
  log "  starting dockerd $*"
  setsid nohup dockerd "$@" >>"$dockerd_log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 120); do
    if docker_answers; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  attempt_log=$(tail -c +"$from" "$dockerd_log")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    sleep 2
  fi
  return 1
}

if ! docker_answers; then
  pidfile=/var/run/docker.pid
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
      # A dockerd is alive but not answering yet, e.g. still starting: give it the same 60 s.
      log "  dockerd $pid is running, waiting for it"
      for _ in $(seq 1 120); do
        docker_answers && break
        sleep 0.5
      done
      docker_answers || fail "dockerd (pid $pid) is running but does not answer; see $dockerd_log"
    else
      log "  removing stale $pidfile (pid $pid is gone)"
      rm -f "$pidfile"
    fi
  fi
fi
if ! docker_answers; then
  flags=()
  ok=
  for _ in 1 2 3; do
    if start_dockerd "${flags[@]}"; then
      ok=1
      break
    fi
    # Fall back only on the failure actually seen: vfs when overlay2 cannot mount, no iptables
    # rules when the sandbox's netfilter refuses them.
    if [[ " ${flags[*]} " != *" --storage-driver=vfs "* ]] &&
      grep -Eqi 'overlay|storage[- ]driver|graphdriver' <<<"$attempt_log"; then
      flags+=(--storage-driver=vfs)
    elif [[ " ${flags[*]} " != *" --iptables=false "* ]] && grep -Eqi 'iptables|nf_tables|netfilter' <<<"$attempt_log"; then
      flags+=(--iptables=false --ip-masq=false)
    else
      break
    fi
  done
  if [ -z "$ok" ]; then
    printf '%s\n' "$attempt_log" | tail -20 >&2
    fail "dockerd does not start; see $dockerd_log"
  fi
  [ ${#flags[@]} -eq 0 ] || log "  dockerd needed: ${flags[*]}"
fi
# Any dockerd started with --bridge=none (an isolated test engine, say) deletes the docker0 link
# under the running engine, which then fails every container start. Put it back as it was.
bridge_if=$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null || true)
if [ -n "$bridge_if" ] && ! ip link show "$bridge_if" >/dev/null 2>&1; then
  subnet=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}')
  gateway=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
  [ -n "$gateway" ] || gateway=$(awk -F'[./]' '{ printf "%d.%d.%d.%d", $1, $2, $3, $4 + 1 }' <<<"$subnet")
  log "  recreating the missing $bridge_if bridge ($gateway/${subnet#*/})"
  ip link add name "$bridge_if" type bridge
  ip addr add "$gateway/${subnet#*/}" dev "$bridge_if"
  ip link set "$bridge_if" up
fi
# Bridges of test engines that are gone (a run killed before its cleanup): Berth's namespace
# bridges (bth...) and isolated engines' own (bf...). Each holds a subnet, which the engine then
# skips as taken, until it has no address pool left for a namespace's network. Only those no
# running engine uses go: the shared engine's networks' bridges, and any dockerd still running.
in_use=" $(docker network ls -q | xargs -r docker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null | tr '\n' ' ') "
if pgrep -f 'dockerd .*--data-root=/tmp/bf-' >/dev/null; then
  log "  an isolated test engine is running: stale bridges left alone"
else
  stale=0
  for br in $(ip -o link show type bridge | awk -F': ' '{ print $2 }' | grep -E '^(bth|bf)[0-9a-f]+$' || true); do
    [[ "$in_use" == *" $br "* ]] && continue
    ip link delete "$br" 2>/dev/null && stale=$((stale + 1))
  done
  [ "$stale" = 0 ] || log "  removed $stale bridges of test engines that are gone"
fi
docker_info=$(docker info --format '{{.ServerVersion}} storage={{.Driver}} init={{.InitBinary}}')
docker_pid=$(cat /var/run/docker.pid 2>/dev/null || echo '?')
step_done

# --- test images ----------------------------------------------------------------------------
step "test images"
bash "$here/images.sh"
step_done

# --- registry -------------------------------------------------------------------------------
step "registry on $registry"
registry_status() {
  curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" "http://$registry/v2/" 2>/dev/null || true
}
# Ours, or one with the same credentials, is already serving: 401 anonymous, 200 with them.
registry_ready() {
  [ "$(registry_status)" = 401 ] && [ "$(registry_status -u "$registry_user:$registry_password")" = 200 ]
}
if ! registry_ready; then
  code=$(registry_status)
  if [ "$code" != 000 ]; then
    fail "something else answers on $registry (HTTP $code without credentials) and does not accept $registry_user; stop it or free the port"
  fi
  mkdir -p "$registry_dir/data"
  if ! htpasswd -vb "$registry_dir/htpasswd" "$registry_user" "$registry_password" >/dev/null 2>&1; then
    htpasswd -Bbc "$registry_dir/htpasswd" "$registry_user" "$registry_password" 2>/dev/null
  fi
  cat >"$registry_dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $registry_dir/data
  delete:
    enabled: true
http:
  addr: $registry
  secret: berth-test-registry
auth:
  htpasswd:
    realm: berth-test
    path: $registry_dir/htpasswd
EOF
  old_pid=$(cat "$registry_dir/registry.pid" 2>/dev/null || true)
  if [ -n "$old_pid" ] && [ "$(cat "/proc/$old_pid/comm" 2>/dev/null)" = docker-registry ]; then
    # Ours is alive but not serving (a config it rejected, a port it lost): replace it.
    kill "$old_pid"
    sleep 1
  fi
  log "  starting docker-registry"
  setsid nohup docker-registry serve "$registry_dir/config.yml" >>"$registry_dir/registry.log" 2>&1 </dev/null &
  echo $! >"$registry_dir/registry.pid"
  for _ in $(seq 1 40); do
    registry_ready && break
    sleep 0.25
  done
  if ! registry_ready; then
    tail -20 "$registry_dir/registry.log" >&2
    fail "docker-registry does not serve $registry; see $registry_dir/registry.log"
  fi
fi
registry_pid=$(ss -Hltnp "src $registry" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
if [ -n "$registry_pid" ] && [ "$registry_pid" = "$(cat "$registry_dir/registry.pid" 2>/dev/null)" ]; then
  registry_where="data $registry_dir"
else
  registry_where="started elsewhere: $(tr '\0' ' ' <"/proc/${registry_pid:-0}/cmdline" 2>/dev/null || echo '?')"
fi

# The engine must never keep these credentials: tests pass them explicitly. So the CLI logs in
# with a throwaway config directory, which is deleted afterwards.
docker_config=$(mktemp -d)
trap 'DOCKER_CONFIG=$docker_config docker logout "$registry" >/dev/null 2>&1 || true; rm -rf "$docker_config"' EXIT
with_login() { DOCKER_CONFIG=$docker_config "$@"; }
printf '%s' "$registry_password" |
  with_login docker login -u "$registry_user" --password-stdin "$registry" >/dev/null 2>&1 ||
  fail "docker login $registry as $registry_user"

# Push only when the registry's copy is not the current berth-test/httpd:1 (the config digest
# of a schema 2 manifest is the image id).
want=$(docker image inspect -f '{{.Id}}' berth-test/httpd:1)
have=$(curl -fsS -m 5 -u "$registry_user:$registry_password" \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$registry/v2/berth-test/private/manifests/1" 2>/dev/null |
  grep -o '"digest": *"sha256:[0-9a-f]*"' | head -1 | grep -o 'sha256:[0-9a-f]*' || true)
if [ "$have" != "$want" ]; then
  log "  pushing $private_image"
  docker tag berth-test/httpd:1 "$private_image"
  with_login docker push -q "$private_image" >/dev/null || fail "docker push $private_image"
fi
# Untag it locally so a pull test really pulls (and really needs the credentials).
docker rmi "$private_image" >/dev/null 2>&1 || true
with_login docker pull -q "$private_image" >/dev/null || fail "docker pull $private_image"
docker rmi "$private_image" >/dev/null
with_login docker logout "$registry" >/dev/null 2>&1
step_done

# --- ACME test CA ---------------------------------------------------------------------------
step "ACME test CA (pebble) on $pebble_listen"
mkdir -p "$pebble_dir"
# Validation must really happen: PEBBLE_VA_ALWAYS_VALID is never set. No random sleep before
# each validation (seconds per order otherwise).
pebble_env=(PEBBLE_VA_NOSLEEP=1)
pebble_answers() {
  [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' --cacert "$pebble_dir/ca.pem" "https://$pebble_listen/dir" 2>/dev/null)" = 200 ] &&
    [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' --cacert "$pebble_dir/ca.pem" "https://$pebble_management/roots/0" 2>/dev/null)" = 200 ]
}
challtestsrv_answers() {
  [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST -d '{"ip":"127.0.0.1"}' "http://$pebble_dns_management/set-default-ipv4" 2>/dev/null)" = 200 ]
}
if [ ! -s "$pebble_dir/cert.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$pebble_dir/cert.pem" >/dev/null 2>&1; then
  log "  making the certificate of pebble's API (its CA: $pebble_dir/ca.pem)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj '/CN=Berth test ACME API CA' -keyout "$pebble_dir/ca.key" -out "$pebble_dir/ca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=localhost' \
    -keyout "$pebble_dir/key.pem" -out "$pebble_dir/cert.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$pebble_dir/cert.ext"
  openssl x509 -req -in "$pebble_dir/cert.csr" -CA "$pebble_dir/ca.pem" -CAkey "$pebble_dir/ca.key" \
    -CAcreateserial -days 3650 -extfile "$pebble_dir/cert.ext" -out "$pebble_dir/cert.pem" 2>/dev/null ||
    fail "openssl: the certificate of pebble's API"
  chmod 0644 "$pebble_dir/ca.pem" "$pebble_dir/cert.pem"
fi
cat >"$pebble_dir/config.json" <<EOF
{
  "pebble": {
    "listenAddress": "$pebble_listen",
    "managementListenAddress": "$pebble_management",
    "certificate": "$pebble_dir/cert.pem",
    "privateKey": "$pebble_dir/key.pem",
    "httpPort": $pebble_http_port,
    "tlsPort": $pebble_tls_port,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
# Each started with setsid and its pid recorded: a later run replaces only its own, and only when
# it stopped answering.
stop_own() { # comm pidfile
  local old
  old=$(cat "$2" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$(cat "/proc/$old/comm" 2>/dev/null)" = "$1" ]; then
    kill "$old" 2>/dev/null || true
    sleep 0.5
  fi
}
if ! challtestsrv_answers; then
  stop_own pebble-challtes "$pebble_dir/challtestsrv.pid"
  log "  starting pebble-challtestsrv (DNS on $pebble_dns)"
  # Its DNS only: pebble validates, against Berth's ingress, not against the challenge server.
  setsid nohup pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 '' -dns01 "$pebble_dns" \
    -http01 '' -https01 '' -tlsalpn01 '' -management "$pebble_dns_management" \
    >>"$pebble_dir/challtestsrv.log" 2>&1 </dev/null &
  echo $! >"$pebble_dir/challtestsrv.pid"
  for _ in $(seq 1 40); do
    challtestsrv_answers && break
    sleep 0.25
  done
  challtestsrv_answers || {
    tail -20 "$pebble_dir/challtestsrv.log" >&2
    fail "pebble-challtestsrv does not answer on $pebble_dns_management; see $pebble_dir/challtestsrv.log"
  }
fi
if ! pebble_answers; then
  stop_own pebble "$pebble_dir/pebble.pid"
  log "  starting pebble"
  env "${pebble_env[@]}" setsid nohup pebble -config "$pebble_dir/config.json" -dnsserver "$pebble_dns" \
    >>"$pebble_dir/pebble.log" 2>&1 </dev/null &
  echo $! >"$pebble_dir/pebble.pid"
  for _ in $(seq 1 40); do
    pebble_answers && break
    sleep 0.25
  done
  pebble_answers || {
    tail -20 "$pebble_dir/pebble.log" >&2
    fail "pebble does not serve https://$pebble_listen/dir; see $pebble_dir/pebble.log"
  }
fi
step_done

# --- a container as the tests run one -------------------------------------------------------
step "container check (--init, published port)"
cid=$(docker run -d --rm --init -p 127.0.0.1::8080 -e REPLICA=setup-check berth-test/httpd:1) ||
  fail "docker run berth-test/httpd:1"
port=$(docker port "$cid" 8080/tcp | head -1 | sed 's/.*://')
body=
for _ in $(seq 1 40); do
  body=$(curl -fsS -m 2 "http://127.0.0.1:$port/" 2>/dev/null) && break
  sleep 0.25
done
whoami=$(curl -fsS -m 2 "http://127.0.0.1:$port/cgi-bin/whoami" 2>/dev/null || true)
health=$(curl -fsS -m 2 "http://127.0.0.1:$port/healthz" 2>/dev/null || true)
stop_started=$(date +%s%N)
docker stop -t 10 "$cid" >/dev/null
stop_took=$(elapsed "$stop_started")
[ "$body" = v1 ] || fail "published port 127.0.0.1:$port of berth-test/httpd:1 answered '$body', want 'v1'"
[ "$health" = ok ] || fail "GET /healthz answered '$health', want 'ok'"
[[ "$whoami" == *'"replica":"setup-check"'* ]] || fail "GET /cgi-bin/whoami answered '$whoami'"
# With --init the container's PID 1 forwards SIGTERM; without it httpd ignores it for 10 s.
awk -v t="${stop_took%s}" 'BEGIN { exit !(t < 5) }' || fail "docker stop with --init took $stop_took"
step_done

# --- summary --------------------------------------------------------------------------------
log "ready in $(elapsed "$started"):"
log "  PostgreSQL $pg_server_version   $db_url"
log "  Docker $docker_info   pid $docker_pid, log $dockerd_log"
log "  registry $registry   user $registry_user, pid ${registry_pid:-?}, $registry_where"
log "  images   $(docker images --format '{{.Repository}}:{{.Tag}}' 'berth-test/*' | sort | tr '\n' ' ')+ $private_image (registry only)"
log "  pebble   https://$pebble_listen/dir   API CA $pebble_dir/ca.pem, HTTP-01 on port $pebble_http_port, DNS $pebble_dns"
log "  container check: GET / = $body, docker stop --init took $stop_took"
