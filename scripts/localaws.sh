#!/usr/bin/env bash
# localaws.sh — the local AWS used by `make test` and `make demo`.
#
#   scripts/localaws.sh install        install the emulators and tools into the repo's
#                                      gitignored places (.venv, node_modules, .cache)
#   scripts/localaws.sh run CMD ...    start kinesis-local, DynamoDB Local and moto server
#                                      inside a private, loopback-only network namespace,
#                                      run CMD there with the SDK pointed at them, and stop
#                                      the emulators (by PID) when CMD ends, even on failure.
#
# The emulators bind every interface; the private namespace has only 127.0.0.1, so no
# traffic can leave the machine. The namespace also has no route to the package
# registries, so `install` must have run first (`make` does that).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
venv="$root/.venv"
ddb_lib="$cache/dynamodb-local"
logs="$cache/logs"

kinesis_port=4568
kinesis_tls_port=4567
dynamodb_port=8000
moto_port=5000

log() { printf 'localaws: %s\n' "$*" >&2; }

# stamp NAME FILE... — true when FILE contents are unchanged since the last `stamp_set`.
stamp_ok() {
  local name=$1; shift
  [ -f "$cache/$name.stamp" ] && [ "$(cat "$@" | sha256sum)" = "$(cat "$cache/$name.stamp")" ]
}
stamp_set() {
  local name=$1; shift
  cat "$@" | sha256sum >"$cache/$name.stamp"
}

install() {
  mkdir -p "$cache"
  if ! stamp_ok npm "$root/package.json" "$root/package-lock.json" || [ ! -f "$root/node_modules/kinesis-local/main.js" ]; then
    log "installing kinesis-local (npm)"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
    stamp_set npm "$root/package.json" "$root/package-lock.json"
  fi
  if ! stamp_ok pip "$root/tools/requirements.txt" || [ ! -x "$venv/bin/moto_server" ]; then
    log "installing moto server, cfn-lint, aws-sam-cli (pip, into .venv)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tools/requirements.txt"
    stamp_set pip "$root/tools/requirements.txt"
  fi
  if ! stamp_ok ddb "$root/tools/dynamodb-local/pom.xml" || ! ls "$ddb_lib"/DynamoDBLocal-*.jar >/dev/null 2>&1; then
    log "installing DynamoDB Local (Maven Central, into .cache)"
    rm -rf "$ddb_lib"
    mvn -B -q -Dmaven.repo.local="$cache/m2" -f "$root/tools/dynamodb-local/pom.xml" \
      dependency:copy-dependencies -DoutputDirectory="$ddb_lib"
    stamp_set ddb "$root/tools/dynamodb-local/pom.xml"
  fi
  log "downloading Go modules"
  (cd "$root" && go mod download)
}

# wait_port NAME PORT PID — wait until PORT accepts connections, or fail if PID died.
wait_port() {
  local name=$1 port=$2 pid=$3
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited during start-up; its log:"; tail -n 30 "$logs/$name.log" >&2; return 1
    fi
    sleep 0.1
  done
  log "$name did not listen on 127.0.0.1:$port within 30s"; tail -n 30 "$logs/$name.log" >&2
  return 1
}

pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}

start_all() {
  mkdir -p "$logs"
  KINESIS_MOCK_CERT_PATH="$root/node_modules/kinesis-local/server.json" \
    KINESIS_MOCK_PLAIN_PORT=$kinesis_port KINESIS_MOCK_TLS_PORT=$kinesis_tls_port \
    SHOULD_PERSIST_DATA=false LOG_LEVEL=WARN AWS_REGION=us-east-1 AWS_ACCOUNT_ID=000000000000 \
    node "$root/node_modules/kinesis-local/main.js" >"$logs/kinesis-local.log" 2>&1 &
  pids+=($!); local kpid=$!
  (cd "$cache" && exec java -Djava.library.path="$ddb_lib" -cp "$ddb_lib/*" \
    com.amazonaws.services.dynamodbv2.local.main.ServerRunner \
    -inMemory -sharedDb -disableTelemetry -port $dynamodb_port) >"$logs/dynamodb-local.log" 2>&1 &
  pids+=($!); local dpid=$!
  "$venv/bin/moto_server" -H 127.0.0.1 -p $moto_port >"$logs/moto.log" 2>&1 &
  pids+=($!); local mpid=$!
  wait_port kinesis-local $kinesis_port $kpid
  wait_port dynamodb-local $dynamodb_port $dpid
  wait_port moto $moto_port $mpid
  log "kinesis-local :$kinesis_port, DynamoDB Local :$dynamodb_port, moto :$moto_port (pids ${pids[*]})"
}

run() {
  if [ "${STREAMDLQ_NETNS:-}" != 1 ]; then
    # Re-enter this script in a fresh network namespace that has only loopback.
    local ns=(unshare --net)
    if ! unshare --net true 2>/dev/null; then ns=(unshare --net --map-root-user); fi
    exec env STREAMDLQ_NETNS=1 "${ns[@]}" "$0" run "$@"
  fi
  ip link set lo up
  trap stop_all EXIT
  trap 'exit 130' INT TERM
  start_all
  export STREAMDLQ_LOCALAWS=1
  export AWS_ACCESS_KEY_ID=AKIDLOCAL AWS_SECRET_ACCESS_KEY=localsecret AWS_SESSION_TOKEN=
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
  export AWS_ENDPOINT_URL_KINESIS="http://127.0.0.1:$kinesis_port"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$dynamodb_port"
  export AWS_ENDPOINT_URL_DYNAMODB_STREAMS="http://127.0.0.1:$dynamodb_port"
  # Nothing in here can reach a registry: fail fast instead of hanging on one.
  export GOFLAGS=-mod=readonly GOPROXY=off GOTOOLCHAIN=local
  export PATH="$venv/bin:$PATH"
  "$@"
}

case "${1:-}" in
  install) install ;;
  run) shift; [ $# -gt 0 ] || { log "usage: $0 run CMD ..."; exit 2; }; run "$@" ;;
  *) log "usage: $0 install | run CMD ..."; exit 2 ;;
esac
