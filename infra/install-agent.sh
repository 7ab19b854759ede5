#!/usr/bin/env bash
# Installs berth-agent on a Debian or Ubuntu VM and starts it under systemd.
#
#   install-agent.sh --server URL --join-token TOKEN [--name NAME] [--labels k=v,...]
#                    [--address IP] [--bundle PATH | --bundle-url URL] [--node PATH] [--root DIR]
#
# Every option can also come from the environment (BERTH_SERVER, BERTH_JOIN_TOKEN, BERTH_NAME,
# BERTH_LABELS, BERTH_ADDRESS, BERTH_BUNDLE, BERTH_BUNDLE_URL). Running it again upgrades the
# bundle and rewrites the configuration; the node keeps its identity (name and data dir), and
# needs no join token while it holds its credential. A new join token re-joins a node that was
# deleted or reset (berth node reset NAME).
#
# Writes:
#   /usr/local/lib/berth/berth-agent.mjs       the single-file agent bundle
#   /usr/local/bin/berth-agent                 wrapper running the bundle with Node >= 20
#   /etc/berth/agent.env                       configuration, mode 0600 (the agent removes the
#                                              join token from it once it holds its credential)
#   /etc/systemd/system/berth-agent.service    the unit (same as infra/berth-agent.service)
#   /var/lib/berth-agent/                      the agent's state (node credential), mode 0700
# With --root DIR everything goes under DIR and systemd is left alone (image building, tests).
set -euo pipefail

usage() {
  sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" 2>/dev/null || echo 'see the header of install-agent.sh'
}
fail() {
  printf 'install-agent: %s\n' "$*" >&2
  exit 1
}
note() { printf 'install-agent: %s\n' "$*"; }

server=${BERTH_SERVER:-}
join_token=${BERTH_JOIN_TOKEN:-}
name=${BERTH_NAME:-}
labels=${BERTH_LABELS:-}
address=${BERTH_ADDRESS:-}
bundle=${BERTH_BUNDLE:-}
bundle_url=${BERTH_BUNDLE_URL:-}
node_bin=
root=

while [ $# -gt 0 ]; do
  opt=$1
  case $opt in
  -h | --help)
    usage
    exit 0
    ;;
  --*=*)
    value=${opt#*=}
    opt=${opt%%=*}
    shift
    ;;
  --*)
    [ $# -ge 2 ] || fail "$opt needs a value"
    value=$2
    shift 2
    ;;
  *) fail "unexpected argument '$opt' (see --help)" ;;
  esac
  case $opt in
  --server) server=$value ;;
  --join-token) join_token=$value ;;
  --name) name=$value ;;
  --labels) labels=$value ;;
  --address) address=$value ;;
  --bundle) bundle=$value ;;
  --bundle-url) bundle_url=$value ;;
  --node) node_bin=$value ;;
  --root) root=$value ;;
  *) fail "unknown option '$opt' (see --help)" ;;
  esac
done

# --- validate everything before touching the machine -----------------------------------------
# Values land unquoted in a systemd EnvironmentFile, so each is held to a character set that
# needs no quoting there or in a shell.
[ -n "$server" ] || fail "--server URL is required (the control plane, e.g. https://berth.example.com)"
# URL characters of RFC 3986 except quotes and '$'.
url_chars='^[][A-Za-z0-9._~:/?#@!&()*+,;=%-]+$'
plain() { [[ $1 =~ $url_chars ]]; }
[[ $server =~ ^https?://[^/] ]] && plain "$server" ||
  fail "--server must be an http(s) URL without spaces or quotes, got '$server'"
server=${server%/}
# A node that holds its credential (a re-install, an upgrade) needs none.
[ -n "$join_token" ] || [ -s "$root/var/lib/berth-agent/node.json" ] ||
  fail "--join-token is required (an admin creates one: berth join-token create, or POST /v1/join-tokens)"
[ -z "$join_token" ] || [[ $join_token =~ ^[A-Za-z0-9._~+/=-]+$ ]] || fail "--join-token holds unexpected characters"
if [ -z "$name" ]; then
  name=$(hostname -s 2>/dev/null || hostname)
  name=${name,,}
fi
[[ $name =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] && [ ${#name} -le 63 ] ||
  fail "node name '$name' is not a DNS-1123 label (lowercase letters, digits, '-'); pass --name"
if [ -n "$labels" ]; then
  IFS=, read -ra pairs <<<"$labels"
  for pair in "${pairs[@]}"; do
    [[ $pair =~ ^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?=([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$ ]] ||
      fail "label '$pair' must look like key=value (letters, digits, '-', '_', '.'; key may have a prefix/)"
  done
fi
[ -z "$address" ] || [[ $address =~ ^[A-Za-z0-9.:-]+$ ]] || fail "--address must be an IP address, got '$address'"
[ -z "$bundle" ] || [ -z "$bundle_url" ] || fail "give either --bundle or --bundle-url, not both"
if [ -z "$bundle" ] && [ -z "$bundle_url" ]; then
  # Run from a checkout or an unpacked release: use the bundle that sits beside the script.
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  for candidate in "$here/berth-agent.mjs" "$here/../dist/berth-agent.mjs"; do
    if [ -f "$candidate" ]; then
      bundle=$candidate
      break
    fi
  done
  [ -n "$bundle" ] ||
    fail "no agent bundle: pass --bundle PATH (built by 'npm run build:agent' into dist/berth-agent.mjs) or --bundle-url URL"
fi
[ -z "$bundle" ] || [ -s "$bundle" ] || fail "bundle '$bundle' does not exist or is empty"
[ -z "$bundle_url" ] || { [[ $bundle_url =~ ^https?://[^/] ]] && plain "$bundle_url"; } ||
  fail "--bundle-url must be an http(s) URL"

if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
  fail "must run as root (it writes /etc and /usr/local and manages a systemd unit); or use --root DIR"
fi

# Node >= 20 runs the bundle. It is not installed from here: which source is right (the
# distribution, NodeSource, a tarball) is the operator's call.
if [ -z "$node_bin" ]; then node_bin=$(command -v node || true); fi
[ -n "$node_bin" ] || fail "Node.js 20 or newer is required and 'node' is not on PATH.
  Debian 13, Ubuntu 24.10 and later:  apt-get install -y nodejs
  Debian 12 and Ubuntu 24.04 ship Node 18: install 20+ from https://nodejs.org or
  https://github.com/nodesource/distributions, then run this again (or pass --node PATH)."
[[ $node_bin == /* ]] || fail "--node must be an absolute path, got '$node_bin'"
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] 2>/dev/null ||
  fail "$node_bin is Node $("$node_bin" --version 2>/dev/null || echo '?'); berth-agent needs Node 20 or newer"

# --- install ----------------------------------------------------------------------------------
lib_dir=/usr/local/lib/berth
bundle_path=$lib_dir/berth-agent.mjs
wrapper_path=/usr/local/bin/berth-agent
env_path=/etc/berth/agent.env
unit_path=/etc/systemd/system/berth-agent.service
data_dir=/var/lib/berth-agent

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

if [ -n "$bundle_url" ]; then
  note "downloading $bundle_url"
  curl -fsSL --retry 3 --connect-timeout 10 -o "$staging/berth-agent.mjs" "$bundle_url" ||
    fail "could not download the agent bundle from $bundle_url"
  [ -s "$staging/berth-agent.mjs" ] || fail "$bundle_url returned an empty file"
else
  cp "$bundle" "$staging/berth-agent.mjs"
fi

# Each file is written beside its target and renamed into place, so a running agent or a
# half-finished re-install never sees a partial file.
put() {
  local mode=$1 src=$2 dest=$root$3
  mkdir -p "$(dirname "$dest")"
  install -m "$mode" "$src" "$dest.tmp.$$"
  mv -f "$dest.tmp.$$" "$dest"
}

cat >"$staging/wrapper" <<EOF
#!/bin/sh
# berth-agent: the Berth agent bundle run by the Node found when it was installed.
exec "$node_bin" "$bundle_path" "\$@"
EOF

# The join token is spent once: the agent removes its line from this file (BERTH_ENV_FILE) as
# soon as the node holds its credential.
{
  cat <<EOF
# berth-agent configuration, read by berth-agent.service. Empty means the agent's default.
# Written by install-agent.sh; edit and run 'systemctl restart berth-agent' to apply.
BERTH_SERVER=$server
EOF
  [ -z "$join_token" ] || echo "BERTH_JOIN_TOKEN=$join_token"
  cat <<EOF
BERTH_NAME=$name
BERTH_LABELS=$labels
BERTH_ADDRESS=$address
BERTH_DATA_DIR=$data_dir
BERTH_ENV_FILE=$env_path
EOF
} >"$staging/env"

cat >"$staging/unit" <<'EOF'
[Unit]
Description=Berth agent: runs this machine's share of Berth deployments on Docker
Wants=network-online.target docker.service
After=docker.service network-online.target

[Service]
Type=simple
EnvironmentFile=/etc/berth/agent.env
ExecStart=/usr/local/bin/berth-agent
Restart=always
RestartSec=2
# 78: the node was deleted or reset, or its registration refused. Restarting cannot help, and
# the agent must not come back by itself: an operator re-joins it with a new join token.
RestartPreventExitStatus=78
StateDirectory=berth-agent
StateDirectoryMode=0700
# Containers belong to the Docker Engine, not to this unit: stopping or restarting the agent
# leaves them running, and the agent adopts them again when it comes back.
TimeoutStopSec=30
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
EOF

put 0644 "$staging/berth-agent.mjs" "$bundle_path"
put 0755 "$staging/wrapper" "$wrapper_path"
mkdir -p "$root/etc/berth"
put 0600 "$staging/env" "$env_path"
put 0644 "$staging/unit" "$unit_path"
mkdir -p "$root$data_dir"
chmod 0700 "$root$data_dir"

if [ -n "$root" ]; then
  note "installed into $root (systemd left alone)"
  exit 0
fi

note "installed berth-agent for node '$name' ($server)"
if ! command -v docker >/dev/null 2>&1 && [ ! -S /var/run/docker.sock ]; then
  note "warning: no Docker Engine found; install it (apt-get install -y docker.io): the agent retries until it answers"
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable berth-agent >/dev/null 2>&1
  # restart, not just start: a re-install must take the new bundle and configuration.
  systemctl restart berth-agent
  note "berth-agent is running: systemctl status berth-agent; journalctl -u berth-agent -f"
else
  note "systemd is not running here; start the agent with:"
  note "  set -a; . $env_path; set +a; nohup $wrapper_path >/var/log/berth-agent.log 2>&1 &"
fi
