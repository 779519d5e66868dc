#!/usr/bin/env bats
# Change detection (issue 14, doc/change-detection.md): db-snap reuses the
# newest snapshot only when the database provably has not changed.  Every
# mutation below is made between two snapshots on a real server and must
# produce a new snapshot; an untouched database must reuse its snapshot on
# every engine, and safe-run must journal the reused one as its undo point.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
    mariadb_start
    pg_sql "CREATE ROLE other_owner" postgres >/dev/null
}

teardown_file() {
    # A restart test may have replaced a server; the new pid is in a file.
    [ ! -f "$BATS_FILE_TMPDIR/pg.pid" ] || PG_PID=$(cat "$BATS_FILE_TMPDIR/pg.pid")
    [ ! -f "$BATS_FILE_TMPDIR/my.pid" ] || MY_PID=$(cat "$BATS_FILE_TMPDIR/my.pid")
    pg_stop
    mariadb_stop
}

teardown() {
    [ -z "${app:-}" ] || { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; }
    return 0
}

setup() {
    proj=$BATS_TEST_TMPDIR/proj
    mkdir -p "$proj"
    cd "$proj"
    [ ! -f "$BATS_FILE_TMPDIR/pg.pid" ] || export PG_PID=$(cat "$BATS_FILE_TMPDIR/pg.pid")
    [ ! -f "$BATS_FILE_TMPDIR/my.pid" ] || export MY_PID=$(cat "$BATS_FILE_TMPDIR/my.pid")
}

# snap: one db-snap -v of $DATABASE_URL; its path in $snap, its stderr in $why.
snap() {
    run --separate-stderr db-snap -v "$@"
    if [ "$status" -ne 0 ]; then
        printf 'db-snap exited with %s:\n%s\n' "$status" "$stderr" >&2
        return 1
    fi
    snap=$output
    why=$stderr
    [ -f "$snap" ]
}

# settle: snapshot until db-snap reuses its newest snapshot (a fingerprint
# may not be provable yet: a SQLite file or a MariaDB definition written
# within the last second or two).  Leaves that snapshot in $base.
settle() {
    local deadline=$((SECONDS + 15))
    snap "$@"
    base=$snap
    while ((SECONDS < deadline)); do
        snap "$@"
        if [ "$snap" = "$base" ]; then
            [[ $why == *"unchanged since $base"* ]]
            return 0
        fi
        base=$snap
        sleep 0.2
    done
    echo "db-snap never reused a snapshot; last stderr: $why" >&2
    return 1
}

# changed: the next db-snap must take a new snapshot, not reuse $base.
changed() {
    snap "$@"
    [ "$snap" != "$base" ]
    [[ $why != *"unchanged since"* ]]
}

# ------------------------------------------------------------ PostgreSQL

pg_db() {
    db=cd_$BATS_TEST_NUMBER
    pg_sql "DROP DATABASE IF EXISTS $db" postgres >/dev/null
    pg_sql "CREATE DATABASE $db" postgres >/dev/null
    pg_sql "CREATE TABLE t (id serial PRIMARY KEY, v text);
        INSERT INTO t (v) SELECT 'row' || g FROM generate_series(1, 50) g;
        CREATE SEQUENCE s;
        SELECT nextval('s');
        CREATE UNLOGGED TABLE u (id int);
        INSERT INTO u VALUES (1);
        CREATE SCHEMA other;
        CREATE TABLE other.o (id int);
        INSERT INTO other.o VALUES (1);" "$db" >/dev/null
    export DATABASE_URL=${PG_URL%/*}/$db
}

pg_mutation() {
    pg_db
    settle
    pg_sql "$1" "$db" >/dev/null
    changed
}

@test "postgres: an untouched database reuses its snapshot; --always takes a new one" {
    pg_db
    settle
    [ "$(ls backups/*.meta | wc -l)" -le 3 ]
    grep -q '^fingerprint=postgres1:[0-9a-f]\{64\}$' "$base.meta"
    run -0 --separate-stderr db-snap --always
    [ "$output" != "$base" ]
    forced=$output
    grep -q '^fingerprint=postgres1:' "$forced.meta"
    # The newest snapshot is the one to reuse from now on.
    snap
    [ "$snap" = "$forced" ]
    [[ $why == *"unchanged since $forced"* ]]
}

@test "postgres: INSERT" { pg_mutation "INSERT INTO t (v) VALUES ('new')"; }
@test "postgres: UPDATE" { pg_mutation "UPDATE t SET v = 'changed' WHERE id = 1"; }
@test "postgres: DELETE" { pg_mutation "DELETE FROM t WHERE id = 2"; }
@test "postgres: TRUNCATE" { pg_mutation "TRUNCATE t"; }
@test "postgres: CREATE TABLE" { pg_mutation "CREATE TABLE t2 (x int)"; }
@test "postgres: DROP TABLE" { pg_mutation "DROP TABLE other.o"; }
@test "postgres: ALTER TABLE" { pg_mutation "ALTER TABLE t ADD COLUMN w int"; }
@test "postgres: CREATE INDEX" { pg_mutation "CREATE INDEX t_v ON t (v)"; }
@test "postgres: a sequence's nextval, no row changed" { pg_mutation "SELECT nextval('s')"; }
@test "postgres: setval" { pg_mutation "SELECT setval('s', 42)"; }
@test "postgres: a write to an unlogged table" { pg_mutation "INSERT INTO u VALUES (2)"; }
@test "postgres: a large object" { pg_mutation "SELECT lo_from_bytea(0, 'blob')"; }
@test "postgres: a comment" { pg_mutation "COMMENT ON TABLE t IS 'hello'"; }
@test "postgres: the dbguard marker (the database's comment)" {
    pg_db
    settle
    run -0 --separate-stderr db-envcheck --mark=staging --confirm="$db"
    changed
}
@test "postgres: a change of an object's owner role" { pg_mutation "ALTER TABLE t OWNER TO other_owner"; }
@test "postgres: a role renamed (owner names are in the dump)" {
    pg_db
    pg_sql "ALTER TABLE t OWNER TO other_owner" "$db" >/dev/null
    settle
    pg_sql "ALTER ROLE other_owner RENAME TO other_owner2" postgres >/dev/null
    changed
    pg_sql "ALTER ROLE other_owner2 RENAME TO other_owner" postgres >/dev/null
}
@test "postgres: a write in another schema" { pg_mutation "UPDATE other.o SET id = 2"; }
@test "postgres: VACUUM FULL" { pg_mutation "VACUUM FULL t"; }

pg_restart() {
    local i
    kill -INT "$PG_PID"
    _dbg_wait_gone "$PG_PID" 20 || return 1
    _dbg_as nobody
    _dbg_spawn "$PG_DIR/server.log" "${_DBG_AS[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" \
        -c listen_addresses=127.0.0.1 -p "$PGPORT" -c "unix_socket_directories=$PG_DIR" \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=40 -c shared_buffers=16MB -c logging_collector=off
    PG_PID=$!
    echo "$PG_PID" >"$BATS_FILE_TMPDIR/pg.pid"
    for ((i = 0; i < 600; i++)); do
        "$PG_BIN/pg_isready" -q -h "$PG_DIR" -p "$PGPORT" && return 0
        sleep 0.05
    done
    return 1
}

@test "postgres: a server restart in between" {
    pg_db
    settle
    pg_restart
    changed
}

@test "postgres: the database dropped and re-created with the same content" {
    pg_db
    settle
    pg_sql "DROP DATABASE $db" postgres >/dev/null
    pg_sql "CREATE DATABASE $db" postgres >/dev/null
    zstd -dc "$base" | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -d "$db" >/dev/null
    changed
}

@test "postgres: a restore into it by db-restore" {
    pg_db
    settle
    run -0 --separate-stderr db-restore --confirm="$db" --no-safety-snap "$base"
    changed
}

# --------------------------------------------------------------- MariaDB

my_db() {
    db=cd_$BATS_TEST_NUMBER
    my_sql "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db" "" >/dev/null
    my_sql "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, v varchar(20)) ENGINE=InnoDB;
        INSERT INTO t (v) VALUES ('a'), ('b'), ('c');
        CREATE TABLE k (id int PRIMARY KEY) ENGINE=InnoDB;
        INSERT INTO k VALUES (1);" "$db" >/dev/null
    export DATABASE_URL=${MY_URL%/*}/$db
}

my_mutation() {
    my_db
    settle
    my_sql "$1" "$db" >/dev/null
    changed
}

@test "mariadb: an untouched InnoDB database reuses its snapshot" {
    my_db
    settle
    grep -q '^fingerprint=mysql1:[0-9a-f]\{64\}$' "$base.meta"
}

@test "mariadb: INSERT" { my_mutation "INSERT INTO t (v) VALUES ('d')"; }
@test "mariadb: UPDATE" { my_mutation "UPDATE t SET v = 'z' WHERE id = 1"; }
@test "mariadb: DELETE" { my_mutation "DELETE FROM t WHERE id = 2"; }
@test "mariadb: TRUNCATE" { my_mutation "TRUNCATE t"; }
@test "mariadb: CREATE TABLE" { my_mutation "CREATE TABLE t2 (x int) ENGINE=InnoDB"; }
@test "mariadb: DROP TABLE" { my_mutation "DROP TABLE k"; }
@test "mariadb: ALTER TABLE that rewrites only the .frm (a default)" {
    my_mutation "ALTER TABLE t ALTER COLUMN v SET DEFAULT 'q'"
}
@test "mariadb: CREATE INDEX" { my_mutation "CREATE INDEX t_v ON t (v)"; }
@test "mariadb: a view, a procedure, a trigger" {
    my_mutation "CREATE VIEW vv AS SELECT id FROM t"
    base=$snap
    settle
    my_sql "CREATE PROCEDURE p() SELECT 1" "$db" >/dev/null
    changed
    settle
    my_sql "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.v = NEW.v" "$db" >/dev/null
    changed
}
@test "mariadb: a sequence is never called unchanged" {
    my_db
    my_sql "CREATE SEQUENCE sq" "$db" >/dev/null
    snap
    base=$snap
    [[ $why == *"no fingerprint recorded: 'sq' is a sequence"* ]]
    my_sql "SELECT NEXTVAL(sq)" "$db" >/dev/null
    changed
}

my_engine_table() {
    my_db
    my_sql "CREATE TABLE x (id int PRIMARY KEY, v varchar(10)) ENGINE=$1; INSERT INTO x VALUES (1, 'a')" "$db" >/dev/null
    snap
    base=$snap
    [[ $why == *"table 'x' uses the $1 engine"* ]]
    run -1 grep -q '^fingerprint=' "$base.meta"
    my_sql "UPDATE x SET v = 'b'" "$db" >/dev/null
    changed
    base=$snap
    my_sql "ALTER TABLE x ALTER COLUMN v SET DEFAULT 'q'" "$db" >/dev/null
    changed
}

@test "mariadb: an Aria table" { my_engine_table Aria; }
@test "mariadb: a MyISAM table" { my_engine_table MyISAM; }
@test "mariadb: a MEMORY table" { my_engine_table MEMORY; }

my_restart() {
    local i sock=$MY_SOCKET
    kill -TERM "$MY_PID"
    _dbg_wait_gone "$MY_PID" 20 || return 1
    local -a userarg=()
    [ "$(id -u)" != 0 ] || userarg=(--user="$(stat -c %U "$MY_DIR/data")")
    _dbg_spawn "$MY_DIR/server.log" "$(PATH=$PATH:/usr/sbin command -v mariadbd)" --no-defaults \
        "${userarg[@]}" --datadir="$MY_DIR/data" --tmpdir="$MY_DIR/tmp" --skip-name-resolve \
        --innodb-buffer-pool-size=16M --innodb-log-file-size=8M \
        --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
        --performance-schema=OFF --skip-log-bin --character-set-server=utf8mb4 \
        --socket="$sock" --port="$MY_PORT" --bind-address=127.0.0.1 \
        --pid-file="$MY_DIR/mysqld.pid" --max-connections=40
    MY_PID=$!
    echo "$MY_PID" >"$BATS_FILE_TMPDIR/my.pid"
    for ((i = 0; i < 600; i++)); do
        my_sql "SELECT 1" "" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

@test "mariadb: a server restart in between" {
    my_db
    settle
    my_restart
    changed
}

@test "mariadb: the database dropped and re-created with the same content" {
    my_db
    settle
    my_sql "DROP DATABASE $db; CREATE DATABASE $db" "" >/dev/null
    zstd -dc "$base" | MYSQL_PWD=$MY_PASSWORD mariadb --no-defaults --protocol=tcp \
        -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" "$db"
    changed
}

@test "mariadb: a restore into it by db-restore" {
    my_db
    settle
    run -0 --separate-stderr db-restore --confirm="$db" --no-safety-snap "$base"
    changed
}

# ---------------------------------------------------------------- SQLite

lite_db() {
    sqlite_fixture "$proj/app.sqlite"
    [ "${1:-}" != wal ] || sqlite3 "$proj/app.sqlite" "PRAGMA journal_mode=WAL" >/dev/null
    export DATABASE_URL=sqlite://$proj/app.sqlite
}

# sqlite3 with its last connection closed without a checkpoint: the commit
# stays in the -wal file.
lite_nockpt() { sqlite3 -cmd ".dbconfig no_ckpt_on_close on" "$proj/app.sqlite" "$1"; }

lite_mutation() {
    lite_db "$1"
    settle
    sqlite3 "$proj/app.sqlite" "$2"
    changed
}

@test "sqlite: an untouched database reuses its snapshot (rollback journal and WAL)" {
    lite_db
    settle
    grep -q '^fingerprint=sqlite1:[0-9a-f]\{64\}$' "$base.meta"
    rm -rf backups
    lite_db wal
    settle
}

@test "sqlite: INSERT (rollback journal)" { lite_mutation delete "INSERT INTO users (name) VALUES ('dan')"; }
@test "sqlite: UPDATE (rollback journal)" { lite_mutation delete "UPDATE users SET name = 'x' WHERE id = 1"; }
@test "sqlite: DELETE (rollback journal)" { lite_mutation delete "DELETE FROM orders"; }
@test "sqlite: CREATE and DROP TABLE, ALTER, CREATE INDEX" {
    lite_mutation delete "CREATE TABLE t2 (x)"
    settle
    sqlite3 "$proj/app.sqlite" "ALTER TABLE t2 ADD COLUMN y"
    changed
    settle
    sqlite3 "$proj/app.sqlite" "CREATE INDEX t2_x ON t2 (x)"
    changed
    settle
    sqlite3 "$proj/app.sqlite" "DROP TABLE t2"
    changed
}
@test "sqlite: user_version and VACUUM" {
    lite_mutation delete "PRAGMA user_version = 7"
    settle
    sqlite3 "$proj/app.sqlite" "VACUUM"
    changed
}
@test "sqlite: WAL mode, a commit with a checkpoint" {
    lite_mutation wal "INSERT INTO users (name) VALUES ('dan'); PRAGMA wal_checkpoint(TRUNCATE);"
}
@test "sqlite: WAL mode, commits left in the -wal file (no checkpoint)" {
    lite_db wal
    settle
    lite_nockpt "INSERT INTO users (name) VALUES ('dan')"
    [ -s "$proj/app.sqlite-wal" ]
    changed
    settle
    lite_nockpt "UPDATE users SET name = 'eve' WHERE name = 'dan'"
    changed
}
# app_send SQL: run SQL in the long-lived sqlite3 "application" and wait
# until it has.
app_send() {
    local i mark=done$RANDOM
    echo "$1; SELECT '$mark';" >&8
    for ((i = 0; i < 200; i++)); do
        grep -q "^$mark\$" "$BATS_TEST_TMPDIR/app.out" && return 0
        sleep 0.05
    done
    return 1
}

@test "sqlite: WAL mode, a commit rewriting the -wal file from its start at the same size" {
    lite_db wal
    # One application connection throughout, as a running app keeps: a
    # new connection would rebuild the WAL index and never restart the log.
    mkfifo "$BATS_TEST_TMPDIR/in"
    sqlite3 -cmd ".dbconfig no_ckpt_on_close on" "$proj/app.sqlite" <"$BATS_TEST_TMPDIR/in" \
        >"$BATS_TEST_TMPDIR/app.out" 2>&1 &
    app=$!
    exec 8>"$BATS_TEST_TMPDIR/in"
    app_send "INSERT INTO users (name) VALUES ('dan'); INSERT INTO users (name) VALUES ('fay');
        PRAGMA wal_checkpoint(PASSIVE)"
    size=$(stat -c %s "$proj/app.sqlite-wal")
    salt=$(od -An -tx1 -j16 -N8 "$proj/app.sqlite-wal")
    settle
    # The log was checkpointed to its end: this commit starts it again at
    # its start, with new salts, in a file that keeps its size.
    app_send "UPDATE users SET name = 'gil' WHERE name = 'dan'"
    exec 8>&-
    wait "$app"
    [ "$(stat -c %s "$proj/app.sqlite-wal")" = "$size" ]
    [ "$(od -An -tx1 -j16 -N8 "$proj/app.sqlite-wal")" != "$salt" ]
    changed
}
@test "sqlite: the file replaced by cp of another database with the same size and mtime" {
    lite_db
    sqlite_fixture "$BATS_TEST_TMPDIR/other.sqlite"
    sqlite3 "$BATS_TEST_TMPDIR/other.sqlite" "UPDATE users SET name = 'zzz' WHERE id = 1"
    [ "$(stat -c %s "$BATS_TEST_TMPDIR/other.sqlite")" = "$(stat -c %s "$proj/app.sqlite")" ]
    settle
    touch -r "$proj/app.sqlite" "$BATS_TEST_TMPDIR/other.sqlite"
    cp --preserve=timestamps "$BATS_TEST_TMPDIR/other.sqlite" "$proj/app.sqlite"
    [ "$(stat -c %Y.%s "$BATS_TEST_TMPDIR/other.sqlite")" = "$(stat -c %Y.%s "$proj/app.sqlite")" ]
    changed
    settle
    # Renamed over it: another inode, the same size and mtime.
    sqlite3 "$BATS_TEST_TMPDIR/other.sqlite" "UPDATE users SET name = 'yyy' WHERE id = 1"
    touch -r "$proj/app.sqlite" "$BATS_TEST_TMPDIR/other.sqlite"
    mv "$BATS_TEST_TMPDIR/other.sqlite" "$proj/app.sqlite"
    changed
}
@test "sqlite: a restore into it by db-restore" {
    lite_db
    settle
    run -0 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap "$base"
    changed
}
@test "sqlite: a file written within the last second is not fingerprinted yet" {
    lite_db
    snap
    [[ $why == *"no fingerprint recorded: '$proj/app.sqlite' was written within the last second"* ]]
}

# ---------------------------------------------------------------- safe-run

@test "safe-run journals the reused snapshot as the run's undo point" {
    pg_db
    settle
    run -0 --separate-stderr safe-run true
    run -0 --separate-stderr safe-run true
    # The journal (here outside a project: under $XDG_STATE_HOME) through
    # safe-run --journal: the snapshot and status columns.
    [ "$(safe-run --journal --format=tsv | awk -F'\t' -v b="$base" '$9 == b && $10 == "exit 0"' | wc -l)" -eq 2 ]
    [ "$(ls backups/*.meta | wc -l)" -le 3 ]
}
