# Sourced by .ci/run: a throwaway PostgreSQL cluster for the tests that need one.
#
# Installs PostgreSQL from the distribution's packages when initdb is missing, creates a cluster in a
# temporary directory that listens on a Unix socket there only (no TCP port), with password
# (SCRAM) authentication for a generated superuser, and exports
#   SIGNOFF_TEST_PG           the connection URL (no password in it)
#   SIGNOFF_TEST_PG_PASSWORD  the generated password (the tests hand it to signoff as a secret source)
# The caller must run `pg_stop` on every way out (trap). PostgreSQL refuses to run as root, so as root
# the cluster runs as the `postgres` system user (created by the package) or `nobody`.

pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

pg_install() {
  if pg_bin_dir >/dev/null; then return 0; fi
  echo "ci: installing PostgreSQL from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  local sudo=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq postgresql >/dev/null
  # The package starts a system cluster on the default port; the tests never use it.
  $sudo pg_ctlcluster --help >/dev/null 2>&1 && $sudo sh -c 'for c in /etc/postgresql/*/main; do v=$(basename "$(dirname "$c")"); pg_ctlcluster "$v" main stop 2>/dev/null || true; done'
  pg_bin_dir >/dev/null
}

# Run a command as the cluster's owner.
pg_as_owner() {
  if [ -n "${PG_OWNER:-}" ]; then runuser -u "$PG_OWNER" -- "$@"; else "$@"; fi
}

pg_start() {
  local bin; bin="$(pg_bin_dir)"
  PG_DIR="$(mktemp -d /tmp/signoff-ci-pg.XXXXXX)"
  PG_OWNER=""
  if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then PG_OWNER=postgres; else PG_OWNER=nobody; fi
    chown "$PG_OWNER" "$PG_DIR"
  fi
  chmod 700 "$PG_DIR"
  local password; password="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  local pwfile="$PG_DIR/pwfile"
  ( umask 077; printf '%s\n' "$password" > "$pwfile" )
  [ -n "$PG_OWNER" ] && chown "$PG_OWNER" "$pwfile"
  pg_as_owner "$bin/initdb" -D "$PG_DIR/data" -U signoff_ci --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  rm -f "$pwfile"
  # Unix socket in the temporary directory only; enough connections for 8 racing processes with pools.
  pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $PG_DIR -c max_connections=200 -c fsync=off" start >/dev/null \
    || { cat "$PG_DIR/server.log"; return 1; }
  PG_BIN="$bin"
  # The socket directory as the URL's host, percent-encoded (a host starting with / is a socket directory).
  export SIGNOFF_TEST_PG="postgres://signoff_ci@$(printf %s "$PG_DIR" | sed "s,/,%2F,g")/postgres"
  export SIGNOFF_TEST_PG_PASSWORD="$password"
  echo "ci: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') running on a Unix socket in $PG_DIR"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
  PG_DIR=""
}
