#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster:
#
#   scripts/with-postgres.sh .venv/bin/python -m pytest
#
# initdb into a temporary directory, start it (unix socket only, in that directory: no TCP port to
# clash with anything), create the database, export DATABASE_URL, run the command, then stop the
# cluster and delete the directory, whatever happens. Exits with the command's status.
#
# Needs PostgreSQL's server programs (initdb, pg_ctl; Debian: apt-get install postgresql), found
# on PATH or under /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root: as root
# the cluster runs as the `postgres` system user (Debian's package creates it; otherwise a
# `vinculo-pg` system user is created) and the command itself still runs as root.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 command [args...]" >&2
  exit 2
fi

find_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/$name" ]; then
      echo "$dir/$name"
      return
    fi
  done
  echo "with-postgres: $name not found; install PostgreSQL's server (Debian: apt-get install postgresql)" >&2
  exit 127
}

INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)
BIN_DIR=$(dirname "$(readlink -f "$PG_CTL")")

RUN_AS=()
PG_USER=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  PG_USER=postgres
  if ! id -u "$PG_USER" >/dev/null 2>&1; then
    PG_USER=vinculo-pg
    id -u "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
  fi
  RUN_AS=(runuser -u "$PG_USER" --)
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vinculo-pg.XXXXXX")
DATA="$TMP/data"
SOCKET_DIR="$TMP"
[ "${#RUN_AS[@]}" -eq 0 ] || chown "$PG_USER" "$TMP"
chmod 700 "$TMP"

cleanup() {
  local status=$?
  if [ -f "$DATA/postmaster.pid" ]; then
    "${RUN_AS[@]}" "$PG_CTL" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# the superuser is called postgres whoever runs the server; trust auth: only the socket's owner
# (and root) can reach the private directory the socket is in
"${RUN_AS[@]}" "$INITDB" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$TMP/initdb.log" 2>&1 \
  || { cat "$TMP/initdb.log" >&2; exit 1; }
# fast and disposable: no durability, no TCP
"${RUN_AS[@]}" "$PG_CTL" -D "$DATA" -l "$TMP/server.log" -w -t 60 \
  -o "-c listen_addresses='' -k $SOCKET_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
  start >/dev/null || { cat "$TMP/server.log" >&2; exit 1; }

"$BIN_DIR/createdb" -h "$SOCKET_DIR" -U postgres vinculo

ENCODED_SOCKET=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$SOCKET_DIR")
export DATABASE_URL="postgres://postgres@${ENCODED_SOCKET}/vinculo"
echo "with-postgres: $("$PG_CTL" --version | sed 's/^pg_ctl (//; s/)//') at $SOCKET_DIR (DATABASE_URL=$DATABASE_URL)" >&2

set +e
"$@"
status=$?
set -e
exit $status
