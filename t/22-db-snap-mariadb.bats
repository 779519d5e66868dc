#!/usr/bin/env bats
# db-snap against a real MariaDB: round trips through zstd/gunzip and the
# mariadb client, tuples counted right through quotes, escapes, parentheses
# and binary data, counts that match the snapshot while another client
# writes, interruption mid-dump (the credentials file goes too), a missing
# client program, and never a password in any argv or output.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    mariadb_start
    my_sql "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT NOT NULL, note TEXT);
        INSERT INTO users (name, note) VALUES ('ada', 'a(b),c''d\\\\'), ('brian', 'x\\ny);(z'),
            ('chen', NULL), ('dora', '\"quoted\" \\\\'' ),(');
        CREATE TABLE blobs (id INT PRIMARY KEY, b BLOB);
        INSERT INTO blobs VALUES (1, 0x00FF27285C0A), (2, ''), (3, NULL);
        CREATE TABLE \`odd \`\`name\` (x INT); INSERT INTO \`odd \`\`name\` VALUES (1), (2);
        CREATE TABLE audit (id INT);
        CREATE TABLE empty_one (x INT);
        CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, payload VARCHAR(64));
        CREATE VIEW named AS SELECT id, name FROM users;
        CREATE TRIGGER tr AFTER INSERT ON blobs FOR EACH ROW INSERT INTO audit VALUES (NEW.id);
        CREATE SEQUENCE sq;"
    # a routine whose body has an INSERT at the start of a line of the dump
    my_sql "DELIMITER //
CREATE PROCEDURE p() BEGIN
INSERT INTO \`audit\` VALUES (1), (2), (3);
END//
DELIMITER ;"
    # enough rows for several INSERT statements per table
    my_sql "INSERT INTO events (payload) SELECT MD5(seq) FROM seq_1_to_20000"
    export SNAP_PW=$MY_PASSWORD
}

teardown_file() {
    mariadb_stop
}

setup() {
    proj=$BATS_TEST_TMPDIR/proj
    store=$proj/backups
    mkdir -p "$proj"
    cd "$proj"
    export DATABASE_URL=$MY_URL
    # db-snap's credentials file goes in a private directory under TMPDIR.
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    mkdir -p "$TMPDIR"
}

release_lock() {
    my_sql "SELECT CONCAT('KILL ', id, ';') FROM information_schema.processlist
            WHERE info LIKE '%SLEEP(90)%' AND id <> CONNECTION_ID()" 2>/dev/null |
        while read -r kill; do my_sql "$kill" 2>/dev/null || true; done
    [ -z "${holder:-}" ] || { kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true; }
    holder=
}

teardown() {
    release_lock
    [ -z "${holder:-}" ] || { kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true; }
    [ -z "${snap_pid:-}" ] || { kill -KILL "$snap_pid" 2>/dev/null || true; wait "$snap_pid" 2>/dev/null || true; }
    [ -z "${writer:-}" ] || { kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true; }
    return 0
}

mysql_db() { MYSQL_PWD=$MY_PASSWORD mariadb --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" "$@"; }

fresh_db() { my_sql "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1"; }

# "name<TAB>rows" of every base table of database $1 but the marker.
counts() {
    local t
    for t in $(my_sql "SELECT table_name FROM information_schema.tables WHERE table_schema = '$1'
                       AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'odd%'
                       AND table_name <> 'dbguard_marker' ORDER BY table_name" "$1"); do
        printf '%s\t%s\n' "$t" "$(my_sql "SELECT COUNT(*) FROM \`$t\`" "$1")"
    done
    printf 'odd `name\t%s\n' "$(my_sql 'SELECT COUNT(*) FROM `odd ``name`' "$1")"
}

meta_counts() { sed -n 's/^table=//p' "$1.meta" | sort; }

# A whole database as mariadb-dump prints it, less the lines naming it or the time.
dump_of() {
    MYSQL_PWD=$MY_PASSWORD mariadb-dump --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" \
        -u "$MY_USER" --routines --triggers --skip-dump-date "$1" | grep -v "^-- .*database '\\|^-- Host:"
}

@test "round trip: zstd -dc | mariadb into a fresh database gives back the same tables, rows and code" {
    run -0 --separate-stderr db-snap
    snap=$output
    [[ $snap == "$store"/dbguard_test_*Z.sql.zst ]]
    [ "$(sed -n 's/^engine=//p' "$snap.meta")" = mysql ]
    [[ $(sed -n 's/^server_version=//p' "$snap.meta") == *MariaDB* ]]
    diff <(counts dbguard_test | sort) <(meta_counts "$snap")
    grep -qx "$(printf 'table=users\t4')" "$snap.meta"
    grep -qx "$(printf 'table=events\t20000')" "$snap.meta"
    grep -qx "$(printf 'table=audit\t0')" "$snap.meta"
    fresh_db restored
    zstd -q -dc "$snap" | mysql_db restored
    diff <(dump_of dbguard_test) <(dump_of restored)
    diff <(counts restored | sort) <(meta_counts "$snap")
}

@test "gzip round trip with gunzip -c | mariadb" {
    run -0 --separate-stderr db-snap --compress=gzip:1
    [[ $output == *.sql.gz ]]
    fresh_db restored_gz
    gunzip -c "$output" | mysql_db restored_gz
    diff <(dump_of dbguard_test) <(dump_of restored_gz)
}

@test "the counts describe exactly the snapshot while another client inserts" {
    (
        exec 3>&-
        for i in $(seq 1 3000); do
            echo "INSERT INTO events (payload) VALUES ('w$i'); INSERT INTO users (name) VALUES ('w$i');"
        done | mysql_db dbguard_test
    ) &
    writer=$!
    for round in 1 2; do
        run -0 --separate-stderr db-snap
        fresh_db "during$round"
        zstd -q -dc "$output" | mysql_db "during$round"
        diff <(counts "during$round" | sort) <(meta_counts "$output")
    done
    wait "$writer"
    writer=
}

# A session holding a write lock on users: mariadb-dump waits for it.
hold_lock() {
    (mysql_db -e "LOCK TABLES users WRITE; SELECT SLEEP(90)" dbguard_test 3>&- >/dev/null 2>&1) &
    holder=$!
    for i in $(seq 200); do
        [ -n "$(my_sql "SELECT 1 FROM information_schema.processlist WHERE info LIKE '%SLEEP(90)%'
                        AND id <> CONNECTION_ID()")" ] && return 0
        sleep 0.05
    done
    return 1
}

dump_pid() {
    local f
    for f in /proc/[0-9]*/cmdline; do
        [[ $( { tr '\0' ' ' < "$f"; } 2>/dev/null) == *mariadb-dump*--single-transaction* ]] &&
            { f=${f%/cmdline}; echo "${f#/proc/}"; }
    done
    return 0
}

strays() { find "$store" -mindepth 1 -name '.*' ! -name .gitignore ! -name '.lock.*' -print 2>/dev/null; }

start_blocked_snap() {
    env --default-signal=INT db-snap "$@" > "$BATS_TEST_TMPDIR/snap.out" 2> "$BATS_TEST_TMPDIR/snap.err" &
    snap_pid=$!
    for i in $(seq 200); do
        # mariadb-dump is running, has its transaction, and waits on the lock
        [ -n "$(dump_pid)" ] && [ -n "$(strays)" ] &&
            [ -n "$(my_sql "SELECT 1 FROM information_schema.processlist
                            WHERE state LIKE '%metadata lock%'")" ] && return 0
        sleep 0.05
    done
    return 1
}

@test "no password in any argv during a dump; its credentials are a 0600 memfd, nothing on disk" {
    hold_lock
    start_blocked_snap
    local f cmd found=
    for f in /proc/[0-9]*/cmdline; do
        cmd=$( { tr '\0' ' ' < "$f"; } 2>/dev/null) || continue
        [[ $cmd == *"$SNAP_PW"* || $cmd == *"p%40ss"* ]] && found+="${f%/cmdline}: $cmd"$'\n'
    done
    [ -z "$found" ] || { echo "$found" >&2; false; }
    # mariadb-dump reads them from an inherited anonymous file: no path
    # that a kill could leave behind
    dump=$(dump_pid)
    fd=$(tr '\0' '\n' < "/proc/$dump/cmdline" | sed -n 's|^--defaults-file=/dev/fd/||p')
    [[ $fd =~ ^[0-9]+$ ]]
    [[ $(readlink "/proc/$dump/fd/$fd") == "/memfd:dbguard-client.cnf (deleted)" ]]
    [ "$(stat -L -c %a "/proc/$dump/fd/$fd")" = 600 ]
    [ -z "$(ls -A "$TMPDIR")" ]
    release_lock
    rc=0; wait "$snap_pid" || rc=$?
    snap_pid=
    [ "$rc" -eq 0 ]
    [ -z "$(ls -A "$TMPDIR")" ]
    snap=$(cat "$BATS_TEST_TMPDIR/snap.out")
    [ -s "$snap.meta" ]
    ! grep -rqF -- "$SNAP_PW" "$store" "$BATS_TEST_TMPDIR/snap.out" "$BATS_TEST_TMPDIR/snap.err"
}

@test "SIGINT mid-dump: mariadb-dump stops, no file remains (nor the credentials); status 130" {
    hold_lock
    start_blocked_snap
    dump=$(dump_pid)
    kill -INT "$snap_pid"
    rc=0; wait "$snap_pid" || rc=$?
    snap_pid=
    [ "$rc" -eq 130 ]
    [ -z "$(strays)" ]
    [ -z "$(find "$store" -name 'dbguard_test_*')" ]
    [ -z "$(ls -A "$TMPDIR")" ]
    for i in $(seq 100); do kill -0 "$dump" 2>/dev/null || break; sleep 0.05; done
    ! kill -0 "$dump" 2>/dev/null
}

@test "a missing mariadb-dump names the Debian package" {
    run -1 --separate-stderr env PATH=/nonexistent "$DBGUARD_BIN/db-snap"
    [[ $stderr == *"mariadb-dump not found; install the Debian package mariadb-client"* ]]
    [ -z "$(strays)" ]
}

@test "wrong password: one clear line, status 1, the password not shown" {
    run -1 --separate-stderr db-snap --url "mysql://dbguard:not-the-one@127.0.0.1:$MY_PORT/dbguard_test"
    [[ $stderr == "db-snap: access denied for user 'dbguard'"* ]]
    [[ $stderr != *not-the-one* ]]
    run -1 --separate-stderr db-snap --url "mysql://dbguard:$(printf %s "$MY_URL" | sed 's#.*dbguard:\([^@]*\)@.*#\1#')@127.0.0.1:$MY_PORT/no_such_db"
    [[ $stderr == "db-snap: database 'no_such_db' does not exist"* ]]
}
