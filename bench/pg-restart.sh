#!/usr/bin/env bash
# On demand (it restarts the machine's PostgreSQL, so never beside the test suite):
# Orgbase on PostgreSQL keeps serving when PostgreSQL restarts under load, without a
# restart of its own. Starts the binary on a fresh database, drives writes and reads,
# restarts the cluster with pg_ctlcluster, and checks that requests succeed again
# within 30 s and that every write acknowledged before the restart is still there.
#
#   bench/pg-restart.sh [path/to/orgbase]     (default: target/debug/orgbase)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/orgbase}
admin_url=${ORGBASE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db="orgbase_pgrestart_$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
work=$(mktemp -d)
cluster=$(ls /etc/postgresql | head -n 1)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null
ORGBASE_ADMIN_EMAIL=root@pgrestart.test ORGBASE_ADMIN_PASSWORD=root-password-1 \
ORGBASE_MASTER_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
ORGBASE_ARGON2_MEMORY_KIB=1024 ORGBASE_ARGON2_ITERATIONS=1 ORGBASE_LOG=warn \
  "$bin" serve --bind "127.0.0.1:$port" --database-url "${admin_url%/*}/$db" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"root@pgrestart.test","password":"root-password-1"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# Load: create orgs in a loop, recording the acknowledged ones, until told to stop.
load() {
  local i=0
  while [ ! -f "$work/stop" ]; do
    i=$((i + 1))
    out=$(curl -s -m 5 -o - -w '\n%{http_code}' "$base/api/v1/orgs" -H "authorization: Bearer $token" \
      -H 'content-type: application/json' -d "{\"name\":\"Restart $1 $i\"}" || true)
    code=${out##*$'\n'}
    if [ "$code" = 201 ]; then echo "${out%$'\n'*}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' >>"$work/acked-$1"
    else echo "$code" >>"$work/failed-$1"; fi
  done
}
load 1 & l1=$!
load 2 & l2=$!
sleep 2
before=$(cat "$work"/acked-* | wc -l)
echo "pg-restart: $before orgs acknowledged; restarting PostgreSQL ($cluster main) under load"
t0=$(date +%s.%N)
pg_ctlcluster --skip-systemctl-redirect "$cluster" main restart
# Back when a write succeeds again (the same process: no restart of Orgbase).
recovered=""
for _ in $(seq 1 300); do
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/api/v1/orgs" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"name":"After the restart"}' || true)
  if [ "$code" = 201 ]; then recovered=$(python3 -c "import time; print(round(time.time() - $t0, 2))"); break; fi
  sleep 0.1
done
sleep 1
touch "$work/stop"; wait $l1 $l2 || true
kill -0 "$server" 2>/dev/null || { echo "pg-restart: FAILED: the server died"; exit 1; }
[ -n "$recovered" ] || { echo "pg-restart: FAILED: no successful write within 30 s of the restart"; exit 1; }
failed=$(cat "$work"/failed-* 2>/dev/null | sort | uniq -c | tr '\n' ' ')
# Every acknowledged org is there.
missing=0
for id in $(cat "$work"/acked-*); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/orgs/$id" -H "authorization: Bearer $token")" = 200 ] || missing=$((missing + 1))
done
total=$(cat "$work"/acked-* | wc -l)
echo "pg-restart: writes succeed again ${recovered}s after the restart began, same process; failed answers meanwhile: ${failed:-none}"
echo "pg-restart: $total acknowledged orgs, $missing missing"
[ "$missing" -eq 0 ] || { echo "pg-restart: FAILED"; exit 1; }
# Meanwhile requests may fail, but as 503 (the database is unavailable), never 500.
if cat "$work"/failed-* 2>/dev/null | grep -qx 500; then echo "pg-restart: FAILED: 500 answers"; exit 1; fi
echo "pg-restart: passed"
