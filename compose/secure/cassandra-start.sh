#!/usr/bin/env bash
# Cassandra in compose's secure mode (docker-compose.secure.yml): password authentication and
# role-based authorization, with the platform's role `live` (LIVE_CASSANDRA_PASSWORD) in place of
# the well-known cassandra/cassandra superuser, which is given a random password and disabled.
# Cassandra runs in the background of this script until the roles are set, then this script waits
# on it (and passes it the container's stop signal); /tmp/live-auth-ready tells the health check.
set -euo pipefail
: "${LIVE_CASSANDRA_PASSWORD:?LIVE_CASSANDRA_PASSWORD is not set}"
conf=/etc/cassandra/cassandra.yaml

# The base file's batch thresholds (see docker-compose.yml), and authentication on.
sed -i -e 's/^unlogged_batch_across_partitions_warn_threshold:.*/unlogged_batch_across_partitions_warn_threshold: 100/' \
  -e 's/^batch_size_warn_threshold:.*/batch_size_warn_threshold: 32KiB/' \
  -e 's/^batch_size_fail_threshold:.*/batch_size_fail_threshold: 64KiB/' \
  -e 's/AllowAllAuthenticator/PasswordAuthenticator/' \
  -e 's/AllowAllAuthorizer/CassandraAuthorizer/' \
  "$conf"
grep -q PasswordAuthenticator "$conf" || { echo "cassandra-start: no authenticator line in $conf" >&2; exit 1; }

rm -f /tmp/live-auth-ready
docker-entrypoint.sh cassandra -f &
pid=$!
trap 'kill -TERM "$pid"; wait "$pid"' TERM INT

cql() { cqlsh -u "$1" -p "$2" -e "$3" >/dev/null 2>&1; }
until cql live "$LIVE_CASSANDRA_PASSWORD" 'SELECT release_version FROM system.local'; do
  kill -0 "$pid" 2>/dev/null || { echo 'cassandra-start: cassandra exited' >&2; exit 1; }
  # First start: the default superuser creates live, and live disables it.
  if cql cassandra cassandra "CREATE ROLE IF NOT EXISTS live WITH PASSWORD = '$LIVE_CASSANDRA_PASSWORD' AND LOGIN = true AND SUPERUSER = true"; then
    retired=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    cql live "$LIVE_CASSANDRA_PASSWORD" "ALTER ROLE cassandra WITH PASSWORD = '$retired' AND SUPERUSER = false AND LOGIN = false" ||
      echo 'cassandra-start: could not disable the cassandra role yet; retrying' >&2
  fi
  sleep 2
done
touch /tmp/live-auth-ready
wait "$pid"
