#!/usr/bin/env bash
# Kafka in compose's secure mode (docker-compose.secure.yml): the apache/kafka image formats its
# log directory without SCRAM users, and a KRaft broker whose brokers talk SCRAM needs them in
# place before the first start (KIP-900). So this script does what the image's entrypoint does,
# plus the users:
#   1. every KAFKA_* variable becomes a server property by the image's rules: KAFKA_ dropped,
#      lower case, ___ -> -, __ -> _, _ -> . (KAFKA_SSL_KEYSTORE_TYPE -> ssl.keystore.type);
#   2. each listener mapped to SASL_* gets its SCRAM login module (the admin user is the one the
#      broker logs in as to itself);
#   3. the log directory is formatted once, with the SCRAM-SHA-512 users admin and those of
#      LIVE_KAFKA_USERS (name:password,...); later starts keep what is there;
#   4. /tmp/live-admin.properties is the admin's client config, for the health check and for
#      `kafka-configs.sh --command-config` (adding users, changing passwords).
set -euo pipefail

home=${KAFKA_HOME_DIR:-/opt/kafka}
props=${LIVE_KAFKA_PROPERTIES:-/tmp/live-server.properties}
admin_props=${LIVE_KAFKA_ADMIN_PROPERTIES:-/tmp/live-admin.properties}
: "${CLUSTER_ID:?CLUSTER_ID is not set}"
: "${LIVE_KAFKA_ADMIN_PASSWORD:?LIVE_KAFKA_ADMIN_PASSWORD is not set}"
scram='org.apache.kafka.common.security.scram.ScramLoginModule required'

umask 077
: >"$props"
while IFS='=' read -r name _; do
  case "$name" in
    KAFKA_OPTS | KAFKA_HEAP_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS | KAFKA_JMX_* | KAFKA_HOME_DIR | KAFKA_DEBUG) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key=$(printf '%s' "${name#KAFKA_}" | tr '[:upper:]' '[:lower:]' | sed -e 's/___/-/g' -e 's/__/\x01/g' -e 's/_/./g' -e 's/\x01/_/g')
  printf '%s=%s\n' "$key" "${!name}" >>"$props"
done < <(env)

IFS=',' read -ra mappings <<<"${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:?KAFKA_LISTENER_SECURITY_PROTOCOL_MAP is not set}"
for mapping in "${mappings[@]}"; do
  listener=${mapping%%:*}
  protocol=${mapping#*:}
  case "$protocol" in
    SASL_SSL | SASL_PLAINTEXT)
      printf 'listener.name.%s.scram-sha-512.sasl.jaas.config=%s username="admin" password="%s";\n' \
        "$(printf '%s' "$listener" | tr '[:upper:]' '[:lower:]')" "$scram" "$LIVE_KAFKA_ADMIN_PASSWORD" >>"$props"
      ;;
  esac
done

users=(--add-scram "SCRAM-SHA-512=[name=admin,password=$LIVE_KAFKA_ADMIN_PASSWORD]")
IFS=',' read -ra entries <<<"${LIVE_KAFKA_USERS:-}"
for entry in "${entries[@]}"; do
  [[ -n "$entry" ]] && users+=(--add-scram "SCRAM-SHA-512=[name=${entry%%:*},password=${entry#*:}]")
done
"$home/bin/kafka-storage.sh" format --config "$props" --cluster-id "$CLUSTER_ID" "${users[@]}" --ignore-formatted

cat >"$admin_props" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$scram username="admin" password="$LIVE_KAFKA_ADMIN_PASSWORD";
ssl.truststore.type=${KAFKA_SSL_TRUSTSTORE_TYPE:-PEM}
ssl.truststore.location=${KAFKA_SSL_TRUSTSTORE_LOCATION:?KAFKA_SSL_TRUSTSTORE_LOCATION is not set}
PROPS

exec "$home/bin/kafka-server-start.sh" "$props"
