#!/usr/bin/env bash
# A PostgreSQL 15 + PostGIS cluster of the project's own, for machines where no usable
# server answers on 127.0.0.1:5432.
#   scripts/localdb.sh start|stop|status|url
# PGDATA is .local/pg (TAKHAI_LOCAL_PG_DIR), port 54329 (TAKHAI_LOCAL_PG_PORT). It listens
# on 127.0.0.1 only, keeps its socket and log inside PGDATA, and trusts local connections:
# it is for development and the demo, never for real children's data.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PGDATA_DIR="${TAKHAI_LOCAL_PG_DIR:-$LOCAL_DIR/pg}"
PG_PORT="${TAKHAI_LOCAL_PG_PORT:-54329}"
PG_LOG="$PGDATA_DIR/server.log"

# PostgreSQL refuses to run as root, so root hands the cluster to a system user.
server_user() {
  if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
    stat -c %U "$PGDATA_DIR"
  elif ! is_root; then
    id -un
  elif id -u postgres >/dev/null 2>&1; then
    echo postgres
  else
    id -u takhai >/dev/null 2>&1 ||
      useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin takhai
    echo takhai
  fi
}

as_server_user() {
  local user
  user="$(server_user)"
  if is_root; then
    [ "$user" != root ] || die "$PGDATA_DIR belongs to root; remove it and start again"
    (cd / && runuser -u "$user" -- "$@")
  elif [ "$user" = "$(id -un)" ]; then
    "$@"
  else
    die "the cluster in $PGDATA_DIR belongs to $user: run as root, or set TAKHAI_LOCAL_PG_DIR"
  fi
}

pg_ctl_() { as_server_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" "$@"; }

is_running() { [ -f "$PGDATA_DIR/PG_VERSION" ] && pg_ctl_ status >/dev/null 2>&1; }

# The fourth line of postmaster.pid is the port the running server listens on.
running_port() { sed -n 4p "$PGDATA_DIR/postmaster.pid"; }

# Names the first directory on the way to PGDATA that the server user cannot enter.
check_reachable() {
  local user="$1" dir="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${PGDATA_DIR#/}"
  for part in "${parts[@]}"; do
    dir="$dir/$part"
    runuser -u "$user" -- test -x "$dir" ||
      die "user $user cannot enter $dir, so PostgreSQL cannot reach $PGDATA_DIR." \
        "Move the project out of a private directory (a home directory with mode 700, say)," \
        "set TAKHAI_LOCAL_PG_DIR to a reachable place, or set DATABASE_URL."
  done
}

prepare_dir() {
  local user="$1"
  mkdir -p "$PGDATA_DIR"
  chmod 700 "$PGDATA_DIR"
  if is_root; then
    chown "$user:" "$PGDATA_DIR"
    check_reachable "$user"
  fi
}

init_cluster() {
  local user
  if [ -f "$PGDATA_DIR/PG_VERSION" ]; then return 0; fi
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb not found: install postgresql-15"
  user="$(server_user)"
  prepare_dir "$user"
  say "creating a PostgreSQL cluster in $PGDATA_DIR (runs as $user)"
  as_server_user "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust \
    -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$PGDATA_DIR/postgresql.conf" <<EOF

# scripts/localdb.sh: loopback only, socket beside the data.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGDATA_DIR'
EOF
}

start() {
  init_cluster
  if is_running; then
    say "local PostgreSQL already running on port $(running_port)"
  else
    ! port_in_use "$PG_PORT" ||
      die "port $PG_PORT is taken by another program: set TAKHAI_LOCAL_PG_PORT to a free port"
    if ! pg_ctl_ -l "$PG_LOG" -w -t 60 -o "-p $PG_PORT" start >/dev/null; then
      tail -n 20 "$PG_LOG" >&2 || true
      die "the local PostgreSQL did not start (log: $PG_LOG)"
    fi
    say "local PostgreSQL started on 127.0.0.1:$PG_PORT"
  fi
  ensure_takhai_db "$(running_port)"
}

stop() {
  if ! is_running; then
    say "local PostgreSQL is not running"
    return 0
  fi
  pg_ctl_ stop -m fast -w -t 60 >/dev/null
  say "local PostgreSQL stopped"
}

status() {
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    echo "no local cluster in $PGDATA_DIR"
    return 3
  fi
  pg_ctl_ status
}

url() {
  local port="$PG_PORT"
  if is_running; then port="$(running_port)"; fi
  echo "postgres://postgres@127.0.0.1:$port/takhai"
}

case "${1:-}" in
  start | stop | status | url) "$1" ;;
  *)
    echo "usage: $0 start|stop|status|url" >&2
    exit 2
    ;;
esac
