#!/usr/bin/env bash
# Shared steps of the two README commands (scripts/demo, scripts/test).
# Each step installs only what is missing, so a second run is quick and quiet.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
LOCAL_DIR="$ROOT/.local"
LOG_DIR="$LOCAL_DIR/log"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

APT_PACKAGES=(postgresql-15 postgresql-15-postgis-3 gdal-bin gettext chromium fonts-thai-tlwg)
# psycopg2 is built from source: it needs a compiler and libpq's headers.
BUILD_PACKAGES=(gcc libpq-dev ca-certificates curl)

say() {
  if [ -t 2 ]; then printf '\033[1m[takhai]\033[0m %s\n' "$*" >&2; else printf '[takhai] %s\n' "$*" >&2; fi
}

die() {
  say "error: $*"
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

as_root() {
  if is_root; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "system packages are missing and sudo is not installed: run this command as root"
  fi
}

apt_missing() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}

ensure_apt() {
  local missing=()
  mapfile -t missing < <(apt_missing "${APT_PACKAGES[@]}" "$@")
  if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
  say "installing system packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Prints the first Python 3.11 on PATH; Debian 12's python3 is one.
find_python() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# Debian splits venv/ensurepip and the C headers out of python3.
python_packages() {
  local py
  if ! py="$(find_python)"; then
    echo python3 python3-venv python3-dev
    return 0
  fi
  "$py" -c 'import ensurepip, venv' 2>/dev/null || echo python3-venv
  "$py" -c 'import os, sysconfig, sys
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' ||
    echo python3-dev
}

ensure_system() {
  local extra=()
  read -r -a extra <<<"$(python_packages | tr '\n' ' ')"
  # nodesource's nodejs ships npm itself; Debian's needs the separate package.
  command -v npm >/dev/null || extra+=(npm)
  ensure_apt "${BUILD_PACKAGES[@]}" "${extra[@]}"
  find_python >/dev/null || die "no Python 3.11 found (tried python3.11 and python3); install it and run again"
}

# Under sudo, everything after the system packages runs as the user who called sudo,
# so .venv, .local and node_modules stay theirs and `scripts/test` works without sudo.
drop_to_sudo_user() {
  if is_root && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ] &&
    [ "$(stat -c %U "$ROOT")" = "$SUDO_USER" ]; then
    say "continuing as $SUDO_USER"
    exec runuser -u "$SUDO_USER" -- "$@"
  fi
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

venv_usable() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null
}

ensure_venv() {
  local stamp="$VENV/.takhai-pyproject.sha256" want
  if ! venv_usable; then
    say "creating .venv"
    rm -rf "$VENV"
    "$(find_python)" -m venv "$VENV"
  fi
  want="$(sha_of "$ROOT/pyproject.toml")"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  say "installing Python packages (pyproject.toml changed)"
  (cd "$ROOT" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]')
  echo "$want" >"$stamp"
}

ensure_node() {
  local stamp="$ROOT/node_modules/.takhai-lock.sha256" want
  want="$(sha_of "$ROOT/package-lock.json")"
  if [ -d "$ROOT/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  say "installing front-end packages (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --no-update-notifier --loglevel=error)
  echo "$want" >"$stamp"
}

ensure_local_dirs() {
  mkdir -p "$LOCAL_DIR" "$LOG_DIR" "$LOCAL_DIR/cache"
}

# The key is made once per checkout and handed over by path, never on a command line.
ensure_secret() {
  local file="$LOCAL_DIR/secret_key"
  if [ -n "${DJANGO_SECRET_KEY:-}${DJANGO_SECRET_KEY_FILE:-}" ]; then return 0; fi
  if [ ! -s "$file" ]; then
    (umask 077 && "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$file")
  fi
  export DJANGO_SECRET_KEY_FILE="$file"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

psql_at() {
  local port="$1" db="$2"
  shift 2
  PGCONNECT_TIMEOUT=5 PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
    -U postgres -d "$db" "$@"
}

# Makes the takhai database with PostGIS on a server where we are superuser.
ensure_takhai_db() {
  local port="$1"
  if [ "$(psql_at "$port" postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'takhai'")" != 1 ]; then
    say "creating database takhai on port $port"
    psql_at "$port" postgres -c 'CREATE DATABASE takhai'
  fi
  psql_at "$port" takhai -c 'CREATE EXTENSION IF NOT EXISTS postgis'
}

# The tests create test_<name> with PostGIS, so only a superuser with PostGIS will do.
server_5432_usable() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p 5432 -t 3 || return 1
  [ "$(psql_at 5432 postgres -tAc "SELECT rolsuper FROM pg_roles WHERE rolname = current_user" 2>/dev/null)" = t ] || return 1
  [ "$(psql_at 5432 postgres -tAc "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")" = 1 ]
}

use_server_5432() {
  ensure_takhai_db 5432
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/takhai"
  say "database: PostgreSQL on 127.0.0.1:5432"
}

# Sets LOCALDB_STARTED=1 when this run started the cluster, so the caller may stop it.
use_local_db() {
  LOCALDB_STARTED=0
  "$ROOT/scripts/localdb.sh" status >/dev/null 2>&1 || LOCALDB_STARTED=1
  "$ROOT/scripts/localdb.sh" start
  DATABASE_URL="$("$ROOT/scripts/localdb.sh" url)"
  export DATABASE_URL
  say "database: project-local cluster ($DATABASE_URL)"
}

# Order: DATABASE_URL; a server on 127.0.0.1:5432 where postgres is superuser;
# a cluster of the project's own. TAKHAI_DB=local skips straight to the last.
ensure_database() {
  # shellcheck disable=SC2034 # read by scripts/demo and scripts/test
  LOCALDB_STARTED=0
  if [ -n "${DATABASE_URL:-}" ]; then
    say "database: DATABASE_URL"
    return 0
  fi
  case "${TAKHAI_DB:-auto}" in
    local) use_local_db ;;
    auto) if server_5432_usable; then use_server_5432; else use_local_db; fi ;;
    *) die "TAKHAI_DB=${TAKHAI_DB} is not understood (use TAKHAI_DB=local, or leave it unset)" ;;
  esac
}

manage() { (cd "$ROOT" && "$VENV/bin/python" manage.py "$@"); }

# *.mo files are not committed; they are built from locale/**/*.po on every run.
compile_messages() {
  if [ -z "$(find "$ROOT" \( -name .venv -o -name node_modules -o -name .local -o -name .git \) -prune \
    -o -name '*.po' -path '*/locale/*' -print -quit)" ]; then
    return 0
  fi
  manage compilemessages --ignore .venv --ignore node_modules --ignore .local -v0
}

# Everything both commands need before running Django.
ensure_project() {
  ensure_venv
  ensure_node
  ensure_local_dirs
  ensure_secret
  ensure_database
  compile_messages
}
