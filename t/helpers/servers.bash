# servers.bash — real PostgreSQL 15 and MariaDB servers for the tests, each in
# its own temporary directory on 127.0.0.1 and a free port, started in
# setup_file and stopped in teardown_file (and by an EXIT trap, so an
# interrupted run leaves no server behind).  No server is ever mocked.
#
#   pg_start / pg_stop        PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE
#                             PG_URL PG_SOCKET_DIR PG_DIR PG_PID PG_BIN
#   mariadb_start / _stop     MY_HOST MY_PORT MY_USER MY_PASSWORD MY_DATABASE
#                             MY_SOCKET MY_URL MY_DIR MY_PID
#   pg_sql "SQL" [DB]         run SQL as PGUSER, rows tab-separated on stdout
#   my_sql "SQL" [DB]         run SQL as MY_USER, rows tab-separated on stdout
#   free_port                 print a TCP port nothing listens on (127.0.0.1)
#   sqlite_fixture PATH       a small SQLite database: users (3 rows),
#                             orders (2 rows), an index and a view
#
# As root the servers run as an unprivileged user (PostgreSQL refuses root),
# which is why their directories sit directly under /tmp, not under a 0700
# bats directory.
#
# The benchmarks (bench/lib.sh) start their servers here too, with:
#   DBG_PG_DATA / DBG_MY_DATA   a data directory that outlives the server
#                               (made when missing, never removed; a clean
#                               shutdown keeps it ready for the next start)
#   DBG_DB_USER, DBG_PG_PASSWORD, DBG_MY_PASSWORD, DBG_START_TIMEOUT
#   pg_start ARGS / mariadb_start ARGS   extra server options (last wins)

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
_DBG_START_TIMEOUT=${DBG_START_TIMEOUT:-30}   # seconds a server may take to accept connections
_DBG_USER=${DBG_DB_USER:-dbguard}

# The passwords need percent-encoding in a URL ('@', ':', '/', '%', '#', ' '),
# so URL decoding is exercised by every test that uses *_URL.
_DBG_PG_PASSWORD=${DBG_PG_PASSWORD:-'p@ss:w/rd%1'}
_DBG_MY_PASSWORD=${DBG_MY_PASSWORD:-'my#p@ss:w/rd%2 x'}

# Percent-encode everything but RFC 3986 unreserved characters.
_dbg_urlencode() {
    local s=$1 out= c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [A-Za-z0-9._~-]) out+=$c ;;
        *) printf -v c '%%%02X' "'$c"; out+=$c ;;
        esac
    done
    printf '%s' "$out"
}

# A TCP port on 127.0.0.1 nobody listens on (a refused connect means free).
# Picked at random below the ephemeral range, so concurrent runs rarely meet;
# the start functions retry with another port if the bind still fails.
free_port() {
    local port i
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "servers.bash: no free port found" >&2
    return 1
}

# The name free_port had before it was public; t/11 still uses it.
_dbg_free_port() { free_port; }

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Alive and not a zombie (PID 1 in a container may never reap orphans).
_dbg_pid_alive() {
    local state
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" != Z ]
}

# Wait up to $2 seconds for pid $1 to be gone; 0 when it is.
_dbg_wait_gone() {
    local i n=$(($2 * 20))
    for ((i = 0; i < n; i++)); do
        _dbg_pid_alive "$1" || return 0
        sleep 0.05
    done
    ! _dbg_pid_alive "$1"
}

# Set _DBG_AS to the command prefix that runs a program as the unprivileged
# server user $1 when we are root, and to nothing otherwise.
_dbg_as() {
    _DBG_AS=()
    if [ "$(id -u)" = 0 ]; then
        _DBG_AS=(setpriv --reuid="$(id -u "$1")" --regid="$(id -g "$1")" --clear-groups --)
    fi
}

# Start "$@" in the background as a child of this shell (so bash reaps it),
# with no descriptor of bats left open (bats waits for those to close).
_dbg_spawn() {
    local log=$1; shift
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec "$@"
    ) </dev/null >>"$log" 2>&1 &
}

# shellcheck source=traps.bash
source "$(dirname "${BASH_SOURCE[0]}")/traps.bash"

# Stop whatever is still running when the shell exits (traps.bash).
_dbg_install_trap() { dbg_on_exit _dbg_stop_all; }

# Only what this very process started: a child shell that inherited PG_PID
# must not take its parent's server down when it ends.
_dbg_stop_all() {
    [ "${_DBG_PG_OWNER:-}" != "$BASHPID" ] || pg_stop >/dev/null 2>&1
    [ "${_DBG_MY_OWNER:-}" != "$BASHPID" ] || mariadb_stop >/dev/null 2>&1
    return 0
}

# Data directories fresh from initdb / mariadb-install-db are the same every
# time, so one is made per bats run (in BATS_RUN_TMPDIR) and copied, which
# takes a third of the time.  _dbg_template_get KIND DEST copies one if there
# is one; _dbg_template_put KIND SRC keeps SRC as the template.
_dbg_template_get() {
    local t=${BATS_RUN_TMPDIR:-}/dbguard-template-$1
    [ -n "${BATS_RUN_TMPDIR:-}" ] && [ -d "$t" ] && cp -a "$t" "$2"
}

_dbg_template_put() {
    local t=${BATS_RUN_TMPDIR:-}/dbguard-template-$1
    [ -n "${BATS_RUN_TMPDIR:-}" ] && [ -d "$BATS_RUN_TMPDIR" ] && [ ! -e "$t" ] || return 0
    # Made under a private name and renamed, so no reader sees half of it.
    if cp -a "$2" "$t.$BASHPID"; then
        mv -T "$t.$BASHPID" "$t" 2>/dev/null || rm -rf "$t.$BASHPID"
    fi
    return 0
}

_dbg_die() {
    echo "servers.bash: $1" >&2
    if [ -n "${2:-}" ] && [ -f "$2" ]; then
        echo "--- last lines of $2:" >&2
        tail -n 30 "$2" >&2
    fi
    return 1
}

# ---------------------------------------------------------------- PostgreSQL

pg_start() {
    local dir user=$_DBG_USER db=dbguard_test runas=nobody port try pid i data
    # PG_PID may come from a parent shell's server; only our own counts.
    [ "${_DBG_PG_OWNER:-}" != "$BASHPID" ] || [ -z "${PG_PID:-}" ] ||
        _dbg_die "pg_start: already running (pid $PG_PID)" || return 1
    [ -x "$PG_BIN/postgres" ] || _dbg_die "pg_start: no PostgreSQL in $PG_BIN" || return 1
    dir=$(mktemp -d /tmp/dbguard-pg.XXXXXX) || return 1
    unset PG_PID
    PG_DIR=$dir
    _DBG_PG_OWNER=$BASHPID
    _dbg_install_trap
    if [ "$(id -u)" = 0 ]; then
        chown "$runas:" "$dir"
    fi
    _dbg_as "$runas"
    data=${DBG_PG_DATA:-$dir/data}
    if [ -f "$data/PG_VERSION" ]; then
        :
    elif [ -n "${DBG_PG_DATA:-}" ] || ! _dbg_template_get pg "$data"; then
        rm -rf "$data"
        mkdir -p "$data"
        printf '%s\n' "$_DBG_PG_PASSWORD" >"$dir/pwfile"
        [ "$(id -u)" = 0 ] && chown "$runas:" "$dir/pwfile" "$data"
        # Password auth on TCP is what the programs meet in real life; the
        # socket trusts, so the harness itself needs no password to set up.
        if ! "${_DBG_AS[@]}" "$PG_BIN/initdb" -D "$data" -U "$user" --pwfile="$dir/pwfile" \
            --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C --no-sync \
            >"$dir/initdb.log" 2>&1; then
            _dbg_die "pg_start: initdb failed" "$dir/initdb.log"
            [ -z "${DBG_PG_DATA:-}" ] || rm -rf "$data"
            pg_stop
            return 1
        fi
        rm -f "$dir/pwfile"
        [ -n "${DBG_PG_DATA:-}" ] || _dbg_template_put pg "$data"
    fi
    for ((try = 0; try < 5; try++)); do
        port=$(free_port) || break
        # A crash of the test data does not matter; speed does.
        _dbg_spawn "$dir/server.log" "${_DBG_AS[@]}" "$PG_BIN/postgres" -D "$data" \
            -c listen_addresses=127.0.0.1 -p "$port" -c "unix_socket_directories=$dir" \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=40 -c shared_buffers=16MB -c logging_collector=off "$@"
        pid=$!
        for ((i = 0; i < _DBG_START_TIMEOUT * 20; i++)); do
            _dbg_pid_alive "$pid" || break
            "$PG_BIN/pg_isready" -q -h "$dir" -p "$port" && break
            sleep 0.05
        done
        if _dbg_pid_alive "$pid" && "$PG_BIN/pg_isready" -q -h "$dir" -p "$port"; then
            break
        fi
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=
        grep -q 'could not bind\|could not create any TCP/IP sockets' "$dir/server.log" || break
    done
    if [ -z "$pid" ]; then
        _dbg_die "pg_start: PostgreSQL did not start within ${_DBG_START_TIMEOUT}s" "$dir/server.log"
        pg_stop
        return 1
    fi
    PG_PID=$pid
    if [ "$("$PG_BIN/psql" -X -q -A -t -h "$dir" -p "$port" -U "$user" -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = '$db'" 2>>"$dir/server.log")" != 1 ] &&
        ! "$PG_BIN/psql" -X -q -h "$dir" -p "$port" -U "$user" -d postgres -v ON_ERROR_STOP=1 \
            -c "CREATE DATABASE $db" >>"$dir/server.log" 2>&1; then
        _dbg_die "pg_start: cannot create database $db" "$dir/server.log"
        pg_stop
        return 1
    fi
    PG_DATA=$data
    export PG_DIR PG_PID PG_BIN PG_DATA
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=$user PGPASSWORD=$_DBG_PG_PASSWORD PGDATABASE=$db
    export PG_SOCKET_DIR=$dir
    export PG_URL="postgres://$user:$(_dbg_urlencode "$PGPASSWORD")@127.0.0.1:$port/$db"
}

pg_stop() {
    local pid=${PG_PID:-} dir=${PG_DIR:-}
    if [ -n "$pid" ] && [ -n "${DBG_PG_DATA:-}" ]; then
        # A kept data directory gets a fast, clean shutdown (SIGINT).
        kill -INT "$pid" 2>/dev/null
        _dbg_wait_gone "$pid" 120 || kill -QUIT "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    elif [ -n "$pid" ]; then
        # SIGQUIT is PostgreSQL's immediate shutdown: backends end at once
        # and the shared memory is released, unlike with SIGKILL.
        kill -QUIT "$pid" 2>/dev/null
        _dbg_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    case $dir in /tmp/dbguard-pg.*) rm -rf "$dir" ;; esac
    unset _DBG_PG_OWNER PG_PID PG_DIR PG_DATA PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PG_URL PG_SOCKET_DIR
    return 0
}

pg_sql() {
    [ -n "${PGPORT:-}" ] || _dbg_die "pg_sql: PostgreSQL is not started" || return 1
    PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -A -t -F $'\t' -v ON_ERROR_STOP=1 \
        -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "${2:-$PGDATABASE}" -c "$1"
}

# sleeping_on DB [APPNAME]: a session on DB (with that application_name)
# is in pg_sleep: a test's holder of the database is in place.
sleeping_on() {
    [ "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1' AND query LIKE '%pg_sleep(%'
                 AND pid <> pg_backend_pid() ${2:+AND application_name = '$2'}" postgres)" -ge 1 ]
}

# ------------------------------------------------------------------- MariaDB

_dbg_sql_quote() {
    local s=${1//\\/\\\\}
    printf "'%s'" "${s//\'/\'\'}"
}

mariadb_start() {
    local dir user=$_DBG_USER db=dbguard_test runas= port try pid= i sql pw data fresh=
    local -a userarg=() opts=()
    [ "${_DBG_MY_OWNER:-}" != "$BASHPID" ] || [ -z "${MY_PID:-}" ] ||
        _dbg_die "mariadb_start: already running (pid $MY_PID)" || return 1
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] ||
        _dbg_die "mariadb_start: mariadbd not installed" || return 1
    dir=$(mktemp -d /tmp/dbguard-my.XXXXXX) || return 1
    unset MY_PID
    MY_DIR=$dir
    _DBG_MY_OWNER=$BASHPID
    _dbg_install_trap
    mkdir "$dir/tmp"
    data=${DBG_MY_DATA:-$dir/data}
    if [ "$(id -u)" = 0 ]; then
        runas=mysql
        id mysql >/dev/null 2>&1 || runas=nobody
        chown -R "$runas:" "$dir"
        userarg=(--user="$runas")
    fi
    # Small and careless: a test database is thrown away, startup time counts.
    opts=(--datadir="$data" --tmpdir="$dir/tmp" --skip-name-resolve
        --innodb-buffer-pool-size=16M --innodb-log-file-size=8M
        --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0
        --performance-schema=OFF --skip-log-bin --character-set-server=utf8mb4)
    if [ -d "$data/mysql" ]; then
        :
    elif [ -z "${DBG_MY_DATA:-}" ] && _dbg_template_get my "$data"; then
        fresh=1
    elif rm -rf "$data" && mkdir -p "$data" && { [ -z "$runas" ] || chown "$runas:" "$data"; } &&
        PATH=$PATH:/usr/sbin mariadb-install-db --no-defaults "${userarg[@]}" "${opts[@]}" \
        --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1; then
        fresh=1
        [ -n "${DBG_MY_DATA:-}" ] || _dbg_template_put my "$data"
    else
        _dbg_die "mariadb_start: mariadb-install-db failed" "$dir/install.log"
        [ -z "${DBG_MY_DATA:-}" ] || rm -rf "$data"
        mariadb_stop
        return 1
    fi
    for ((try = 0; try < 5; try++)); do
        port=$(free_port) || break
        _dbg_spawn "$dir/server.log" "$(PATH=$PATH:/usr/sbin command -v mariadbd)" --no-defaults \
            "${userarg[@]}" "${opts[@]}" --socket="$dir/mysqld.sock" --port="$port" \
            --bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" --max-connections=40 "$@"
        pid=$!
        for ((i = 0; i < _DBG_START_TIMEOUT * 20; i++)); do
            _dbg_pid_alive "$pid" || break
            [ -S "$dir/mysqld.sock" ] &&
                mariadb-admin --no-defaults --connect-timeout=2 -S "$dir/mysqld.sock" -u root \
                    ping >/dev/null 2>&1 && break
            sleep 0.05
        done
        if _dbg_pid_alive "$pid" && [ -S "$dir/mysqld.sock" ]; then
            break
        fi
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=
        grep -q 'Bind on TCP/IP port\|Address already in use' "$dir/server.log" || break
    done
    if [ -z "$pid" ]; then
        _dbg_die "mariadb_start: MariaDB did not start within ${_DBG_START_TIMEOUT}s" "$dir/server.log"
        mariadb_stop
        return 1
    fi
    MY_PID=$pid
    # The test user may do everything a dump, a restore and a
    # CREATE/DROP DATABASE need; every other account (the password-less
    # root above all) goes, so nothing can succeed by falling back to it.
    # A kept data directory has its user and database from its first start.
    if [ -n "$fresh" ]; then
        pw=$(_dbg_sql_quote "$_DBG_MY_PASSWORD")
        sql="CREATE USER '$user'@'127.0.0.1' IDENTIFIED BY $pw;
CREATE USER '$user'@'localhost' IDENTIFIED BY $pw;
GRANT ALL PRIVILEGES ON *.* TO '$user'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$user'@'localhost' WITH GRANT OPTION;
CREATE DATABASE $db;"
        if ! mariadb --no-defaults -S "$dir/mysqld.sock" -u root -e "$sql" >>"$dir/server.log" 2>&1 ||
            ! sql=$(mariadb --no-defaults -S "$dir/mysqld.sock" -u root -N -B -e \
                "SELECT CONCAT('DROP USER ', QUOTE(User), '@', QUOTE(Host), ';') FROM mysql.user
                 WHERE User NOT IN ('$user', 'mariadb.sys')" 2>>"$dir/server.log") ||
            ! mariadb --no-defaults -S "$dir/mysqld.sock" -u root -e "$sql" >>"$dir/server.log" 2>&1; then
            _dbg_die "mariadb_start: cannot create user $user and database $db" "$dir/server.log"
            mariadb_stop
            return 1
        fi
    fi
    MY_DATA=$data
    export MY_DIR MY_PID MY_DATA
    export MY_HOST=127.0.0.1 MY_PORT=$port MY_USER=$user MY_PASSWORD=$_DBG_MY_PASSWORD
    export MY_DATABASE=$db MY_SOCKET=$dir/mysqld.sock
    export MY_URL="mysql://$user:$(_dbg_urlencode "$MY_PASSWORD")@127.0.0.1:$port/$db"
}

mariadb_stop() {
    local pid=${MY_PID:-} dir=${MY_DIR:-}
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null
        _dbg_wait_gone "$pid" "$([ -n "${DBG_MY_DATA:-}" ] && echo 120 || echo 10)" || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    case $dir in /tmp/dbguard-my.*) rm -rf "$dir" ;; esac
    unset _DBG_MY_OWNER MY_PID MY_DIR MY_DATA MY_HOST MY_PORT MY_USER MY_PASSWORD MY_DATABASE MY_SOCKET MY_URL
    return 0
}

my_sql() {
    [ -n "${MY_PORT:-}" ] || _dbg_die "my_sql: MariaDB is not started" || return 1
    MYSQL_PWD=$MY_PASSWORD mariadb --no-defaults --protocol=tcp --connect-timeout=5 -N -B \
        -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -e "$1" "${2:-$MY_DATABASE}"
}

# -------------------------------------------------------------------- SQLite

sqlite_fixture() {
    [ -n "${1:-}" ] || _dbg_die "sqlite_fixture: PATH missing" || return 1
    rm -f "$1"
    sqlite3 -batch -bail "$1" <<'SQL'
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
INSERT INTO users (name, email) VALUES
    ('ada', 'ada@example.org'), ('brian', 'brian@example.org'), ('chen', 'chen@example.org');
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total REAL);
INSERT INTO orders (user_id, total) VALUES (1, 9.5), (3, 20);
CREATE INDEX orders_user ON orders(user_id);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
SQL
}
