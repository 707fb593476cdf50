#!/usr/bin/env bash
# Makes what compose's secure mode (docker-compose.secure.yml) reads, in compose/secure/secrets/
# (git-ignored), once; an existing folder is left as it is (delete it to start over, which also
# means new passwords for data that was created with the old ones):
#   passwords.env        LIVE_* passwords, 32 random characters each, for `docker compose --env-file`
#   ca.crt, ca.key       a private certificate authority (10 years); clients trust ca.crt
#   server.crt, .key     the servers' certificate (2 years), for localhost, 127.0.0.1 and the
#                        compose service names; server.pem is key + chain, for Kafka's PEM keystore
#   registry.htpasswd    the registry's basic-auth user live (SHA-512 crypt)
#   ksqldb-users, ksqldb-jaas.conf   ksqlDB's basic-auth user live
# The folder is 700, so nobody else on the host reads it; passwords.env and ca.key are 600. The
# files the containers mount are 644, because their users (kafka 1000, elasticsearch 1000, nginx
# 101, ...) are not the owner of the folder.
#   compose/secure/make-secrets.sh [folder]
set -euo pipefail
dir=${1:-"$(cd "$(dirname "$0")" && pwd)/secrets"}
if [[ -e "$dir/passwords.env" ]]; then
  echo "$dir already holds secrets; delete the folder to make new ones" >&2
  exit 1
fi
command -v openssl >/dev/null || { echo 'openssl is needed' >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

password() { openssl rand -base64 48 | tr -dc 'A-Za-z0-9' | head -c 32; }
declare -A pw
for name in KAFKA_ADMIN KAFKA KAFKA_KSQLDB ELASTIC CASSANDRA REGISTRY KSQLDB; do
  pw[$name]=$(password)
  printf 'LIVE_%s_PASSWORD=%s\n' "$name" "${pw[$name]}" >>passwords.env
done

openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj '/CN=live-platform local CA' \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:3072 -nodes -subj '/CN=live-platform servers' -keyout server.key -out server.csr 2>/dev/null
printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:kafka,DNS:elasticsearch,DNS:cassandra,DNS:registry-tls,DNS:ksqldb' \
  'extendedKeyUsage=serverAuth,clientAuth' >server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 730 -extfile server.ext \
  -out server.crt 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in server.key -out server.pkcs8.key
cat server.pkcs8.key server.crt ca.crt >server.pem
rm -f server.csr server.ext server.pkcs8.key ca.srl

printf 'live:%s\n' "$(openssl passwd -6 "${pw[REGISTRY]}")" >registry.htpasswd
printf 'live: %s,analyst\n' "${pw[KSQLDB]}" >ksqldb-users
cat >ksqldb-jaas.conf <<'JAAS'
KsqlServer-Props {
  org.eclipse.jetty.jaas.spi.PropertyFileLoginModule required
  file="/live-secure/ksqldb-users"
  debug="false";
};
JAAS

chmod 644 ca.crt server.crt server.key server.pem registry.htpasswd ksqldb-users ksqldb-jaas.conf
echo "secrets written to $dir"
