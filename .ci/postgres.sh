# Sourced by .ci/run: a throwaway PostgreSQL cluster for the tests that need one.
#
# Installs PostgreSQL from the distribution's packages when initdb is missing, creates a cluster in a
# temporary directory that listens on a Unix socket there and, with TLS only, on 127.0.0.1 (a free port;
# a certificate for localhost from a throwaway CA made here), with password (SCRAM) authentication for a
# generated superuser, and exports
#   SIGNOFF_TEST_PG           the connection URL over the Unix socket (no password in it)
#   SIGNOFF_TEST_PG_PASSWORD  the generated password (the tests hand it to signoff as a secret source)
#   SIGNOFF_TEST_PG_TLS       the URL over TCP to localhost, where the server requires TLS
#   SIGNOFF_TEST_PG_CA        the throwaway CA's certificate (PEM) that signed the server's
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
  $sudo apt-get install -y -qq postgresql openssl >/dev/null
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
  pg_tls "$PG_DIR/tls" || return 1
  # Clear text only over the socket: TCP connections must use TLS (hostssl; no plain host line).
  printf 'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n' > "$PG_DIR/data/pg_hba.conf"
  # A free port (the socket's name carries it too); enough connections for 8 racing processes with pools.
  local port tries=0
  while :; do
    port=$((20000 + RANDOM % 20000))
    pg_as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c max_connections=200 -c fsync=off \
          -c ssl=on -c ssl_cert_file=$PG_DIR/tls/server.crt -c ssl_key_file=$PG_DIR/tls/server.key" start >/dev/null \
      && break
    tries=$((tries + 1))
    [ "$tries" -ge 5 ] && { cat "$PG_DIR/server.log"; return 1; }
  done
  PG_BIN="$bin"
  # The socket directory as the URL's host, percent-encoded (a host starting with / is a socket directory).
  export SIGNOFF_TEST_PG="postgres://signoff_ci@$(printf %s "$PG_DIR" | sed "s,/,%2F,g"):$port/postgres"
  export SIGNOFF_TEST_PG_PASSWORD="$password"
  export SIGNOFF_TEST_PG_TLS="postgres://signoff_ci@localhost:$port/postgres"
  export SIGNOFF_TEST_PG_CA="$PG_DIR/tls/ca.crt"
  echo "ci: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') running on a Unix socket in $PG_DIR and on localhost:$port (TLS only)"
}

# A throwaway CA and a server certificate for localhost signed by it, in directory $1, readable by the
# cluster's owner only (the key).
pg_tls() {
  local dir="$1"
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=signoff test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1 || { echo "ci: openssl could not make a CA"; return 1; }
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" \
    >/dev/null 2>&1 || { echo "ci: openssl could not make a server key"; return 1; }
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1 || { echo "ci: openssl could not sign"; return 1; }
  rm -f "$dir/ca.key" "$dir/server.csr"
  chmod 600 "$dir/server.key"
  [ -n "$PG_OWNER" ] && chown -R "$PG_OWNER" "$dir"
  chmod 755 "$dir"; chmod 644 "$dir/ca.crt"
  return 0
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
  PG_DIR=""
}
