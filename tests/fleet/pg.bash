# shellcheck shell=bash
# Shared by the PostgreSQL tests (sourced after common.bash): Debian's server started
# in a temporary directory (initdb + pg_ctl, a Unix socket in that directory, no TCP),
# stopped at exit. Sets PGDB, a libpq conninfo for a fresh database "fleet". Skips the
# test (t_skip, exit 77) when the server is not installed.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z $PGBIN || ! -x $PGBIN/initdb || ! -x $PGBIN/pg_ctl ]]; then
  t_skip "the PostgreSQL server is not installed (/usr/lib/postgresql/*/bin/initdb;" \
    "scripts/setup.sh installs the Debian package postgresql)"
fi
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  # initdb refuses to run as root: the cluster belongs to the postgres user.
  if ! id postgres >/dev/null 2>&1 || ! command -v runuser >/dev/null; then
    t_skip "running as root without a postgres user (or runuser) to own the test cluster"
  fi
  AS_PG=(runuser -u postgres --)
fi
pgdir=$(mktemp -d /tmp/otakit-pg.XXXXXX)
chmod 755 "$pgdir"
[[ ${#AS_PG[@]} -eq 0 ]] || chown postgres "$pgdir"

_pg_stop() {
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
t_at_exit _pg_stop # after the library has stopped the servers that use the database

if ! "${AS_PG[@]}" "$PGBIN/initdb" -D "$pgdir/data" -A trust -U otakit --no-sync \
  >"$pgdir/initdb.log" 2>&1; then
  echo "initdb failed:" >&2
  cat "$pgdir/initdb.log" >&2
  exit 1
fi
if ! "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
  -o "-k $pgdir -c listen_addresses= -c fsync=off" start >/dev/null; then
  echo "pg_ctl start failed:" >&2
  cat "$pgdir/server.log" >&2
  exit 1
fi
"$PGBIN/createdb" -h "$pgdir" -U otakit fleet
PGDB="host=$pgdir user=otakit dbname=fleet"
psql_q() {
  "$PGBIN/psql" -h "$pgdir" -U otakit -d fleet -Atc "$1"
}
