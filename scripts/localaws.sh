#!/usr/bin/env bash
# localaws.sh — the local AWS used by `make test` and `make demo`.
#
#   scripts/localaws.sh install        install the emulators and tools into the repo's
#                                      gitignored places (.venv, node_modules, .cache)
#   scripts/localaws.sh install-kafka  install only Apache Kafka (part of `install`)
#   scripts/localaws.sh run CMD ...    start kinesis-local, DynamoDB Local, moto server and a
#                                      one-node Apache Kafka (KRaft, STREAMDLQ_KAFKA_BROKERS;
#                                      SCRAM, TLS and mutual-TLS listeners:
#                                      STREAMDLQ_KAFKA_SCRAM_*, _TLS_*, _MTLS_*)
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
kafka_lib="$cache/kafka"
logs="$cache/logs"

kinesis_port=4568
kinesis_tls_port=4567
dynamodb_port=8000
moto_port=5000
kafka_port=9092
kafka_controller_port=9093
kafka_scram_port=9094 # SASL_PLAINTEXT, SCRAM-SHA-512, user $kafka_scram_user
kafka_tls_port=9095   # SSL, a self-signed certificate for 127.0.0.1 made at each start
kafka_mtls_port=9096  # SSL, and the client must present a certificate of a CA made at each start
kafka_scram_user=streamdlq
kafka_scram_password=streamdlq-local-secret
# A fixed KRaft cluster ID (base64url of 16 bytes) saves a JVM start per run; the log
# directory is new every run, so no two runs share a cluster.
kafka_cluster_id=c3RyZWFtZGxxLWthZmthMQ

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
  install_kafka
  log "downloading Go modules"
  (cd "$root" && go mod download)
}

# install_kafka puts Apache Kafka's jars (broker, KRaft controller, storage tool) into
# .cache/kafka, from Maven Central like DynamoDB Local: into a temporary directory first,
# so that a failed download leaves no half-filled directory behind for `run` to start.
install_kafka() {
  if stamp_ok kafka "$root/tools/kafka/pom.xml" && ls "$kafka_lib"/kafka_2.13-*.jar >/dev/null 2>&1; then return 0; fi
  log "installing Apache Kafka (Maven Central, into .cache)"
  local tmp; tmp=$(mktemp -d "$cache/kafka.XXXXXX")
  mvn -B -q -Dmaven.repo.local="$cache/m2" -f "$root/tools/kafka/pom.xml" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp"
  rm -rf "$kafka_lib"
  mv "$tmp" "$kafka_lib"
  stamp_set kafka "$root/tools/kafka/pom.xml"
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
kafka_dir=
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$kafka_dir" ]; then rm -rf "$kafka_dir"; fi
}

# start_kafka formats a fresh KRaft log directory and starts one node that is both broker
# and controller, on loopback only: PLAINTEXT on $kafka_port, SCRAM on $kafka_scram_port
# (the user is created at format time), TLS on $kafka_tls_port. The internal topics get
# one replica, and the log cleaner and retention checks run every second so that tests
# of compacted and trimmed topics do not wait for their defaults (15 s, 5 min).
start_kafka() {
  kafka_dir=$(mktemp -d "${TMPDIR:-/tmp}/streamdlq-kafka.XXXXXX")
  local ks="$kafka_dir/broker.p12" kspass=streamdlq-local-keystore
  keytool -genkeypair -alias broker -keyalg EC -groupname secp256r1 -dname CN=127.0.0.1 \
    -ext SAN=ip:127.0.0.1,dns:localhost -validity 2 -keystore "$ks" -storetype PKCS12 \
    -storepass "$kspass" -keypass "$kspass" >"$logs/kafka-keytool.log" 2>&1
  keytool -exportcert -rfc -alias broker -keystore "$ks" -storepass "$kspass" \
    -file "$kafka_dir/ca.pem" >>"$logs/kafka-keytool.log" 2>&1
  # A client CA and a client certificate it signed, for the mutual-TLS listener.
  (cd "$kafka_dir" &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj /CN=streamdlq-local-client-ca -keyout client-ca.key -out client-ca.pem &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj /CN=streamdlq-hydrate -keyout client.key -out client.csr &&
    openssl x509 -req -in client.csr -CA client-ca.pem -CAkey client-ca.key -CAcreateserial \
      -days 2 -out client.pem) >"$logs/kafka-openssl.log" 2>&1
  cat >"$kafka_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$kafka_controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$kafka_controller_port,SASL_PLAINTEXT://127.0.0.1:$kafka_scram_port,SSL://127.0.0.1:$kafka_tls_port,MTLS://127.0.0.1:$kafka_mtls_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port,SASL_PLAINTEXT://127.0.0.1:$kafka_scram_port,SSL://127.0.0.1:$kafka_tls_port,MTLS://127.0.0.1:$kafka_mtls_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,MTLS:SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.location=$ks
ssl.keystore.type=PKCS12
ssl.keystore.password=$kspass
ssl.key.password=$kspass
ssl.client.auth=none
listener.name.mtls.ssl.client.auth=required
listener.name.mtls.ssl.truststore.type=PEM
listener.name.mtls.ssl.truststore.location=$kafka_dir/client-ca.pem
log.dirs=$kafka_dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
log.retention.check.interval.ms=1000
PROPS
  local java=(java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$kafka_lib/*")
  "${java[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$kafka_cluster_id" -c "$kafka_dir/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=$kafka_scram_user,password=$kafka_scram_password]" >"$logs/kafka-format.log" 2>&1 ||
    { log "kafka storage format failed; its log:"; cat "$logs/kafka-format.log" >&2; return 1; }
  "${java[@]}" kafka.Kafka "$kafka_dir/server.properties" >"$logs/kafka.log" 2>&1 &
  pids+=($!)
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
  start_kafka; local kfpid=$!
  wait_port kinesis-local $kinesis_port $kpid
  wait_port dynamodb-local $dynamodb_port $dpid
  wait_port moto $moto_port $mpid
  wait_port kafka $kafka_port $kfpid
  wait_port kafka $kafka_scram_port $kfpid
  wait_port kafka $kafka_tls_port $kfpid
  wait_port kafka $kafka_mtls_port $kfpid
  log "kinesis-local :$kinesis_port, DynamoDB Local :$dynamodb_port, moto :$moto_port, kafka :$kafka_port (pids ${pids[*]})"
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
  export STREAMDLQ_KAFKA_BROKERS="127.0.0.1:$kafka_port"
  export STREAMDLQ_KAFKA_SCRAM_BROKERS="127.0.0.1:$kafka_scram_port"
  export STREAMDLQ_KAFKA_SCRAM_USER="$kafka_scram_user" STREAMDLQ_KAFKA_SCRAM_PASSWORD="$kafka_scram_password"
  export STREAMDLQ_KAFKA_TLS_BROKERS="127.0.0.1:$kafka_tls_port" STREAMDLQ_KAFKA_TLS_BROKERS_CA="$kafka_dir/ca.pem"
  export STREAMDLQ_KAFKA_MTLS_BROKERS="127.0.0.1:$kafka_mtls_port"
  export STREAMDLQ_KAFKA_MTLS_CERT="$kafka_dir/client.pem" STREAMDLQ_KAFKA_MTLS_KEY="$kafka_dir/client.key"
  # Nothing in here can reach a registry: fail fast instead of hanging on one.
  export GOFLAGS=-mod=readonly GOPROXY=off GOTOOLCHAIN=local
  export PATH="$venv/bin:$PATH"
  "$@"
}

case "${1:-}" in
  install) install ;;
  install-kafka) mkdir -p "$cache"; install_kafka ;;
  run) shift; [ $# -gt 0 ] || { log "usage: $0 run CMD ..."; exit 2; }; run "$@" ;;
  *) log "usage: $0 install | install-kafka | run CMD ..."; exit 2 ;;
esac
