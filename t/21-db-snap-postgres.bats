#!/usr/bin/env bats
# db-snap against a real PostgreSQL 15: round trips through zstd/gunzip and
# psql, row counts that match the snapshot while another client writes,
# interruption mid-dump, a full disk, concurrency, and never a password in
# any process's argv, any output or the metadata.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
    pg_sql "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, note text);
        INSERT INTO users (name, note) SELECT 'user' || g,
            CASE WHEN g % 3 = 0 THEN NULL ELSE E'tab\there\nnew line \\\\ back ''quote'' \\\\.' END
            FROM generate_series(1, 500) g;
        CREATE TABLE \"Odd \"\"Name\" (x int); INSERT INTO \"Odd \"\"Name\" VALUES (1), (2);
        CREATE SCHEMA audit; CREATE TABLE audit.log (t text);
        INSERT INTO audit.log VALUES (E'\\\\.'), ('\\N'), (''), (NULL);
        CREATE TABLE parent (id int, k int) PARTITION BY RANGE (k);
        CREATE TABLE p1 PARTITION OF parent FOR VALUES FROM (0) TO (10);
        CREATE TABLE p2 PARTITION OF parent FOR VALUES FROM (10) TO (20);
        INSERT INTO parent SELECT g, g FROM generate_series(0, 19) g;
        CREATE TABLE base (a int); CREATE TABLE kid (b int) INHERITS (base);
        INSERT INTO base VALUES (1); INSERT INTO kid VALUES (2, 3), (4, 5);
        CREATE TABLE empty_one (x int);
        CREATE TABLE events (id bigserial PRIMARY KEY, payload text);
        INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 5000) g;
        CREATE VIEW busy_users AS SELECT * FROM users WHERE note IS NOT NULL;
        CREATE FUNCTION f() RETURNS int LANGUAGE sql AS \$\$ SELECT 1 \$\$;" >/dev/null
    export SNAP_PW=$PGPASSWORD
}

teardown_file() {
    pg_stop
}

setup() {
    proj=$BATS_TEST_TMPDIR/proj
    store=$proj/backups
    mkdir -p "$proj"
    cd "$proj"
    # The URL reaches db-snap through the environment, as from a .env: on
    # the command line it would be the test itself putting it in an argv.
    export DATABASE_URL=$PG_URL
}

teardown() {
    # A session holding a lock, and whatever waits on it, must not outlive the test.
    pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE query LIKE '%pg_sleep(90)%' AND pid <> pg_backend_pid()" >/dev/null 2>&1 || true
    [ -z "${holder:-}" ] || { kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true; }
    [ -z "${snap_pid:-}" ] || { kill -KILL "$snap_pid" 2>/dev/null || true; wait "$snap_pid" 2>/dev/null || true; }
    [ -z "${writer:-}" ] || { kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true; }
    return 0
}

psql_db() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }

fresh_db() {
    pg_sql "DROP DATABASE IF EXISTS $1" postgres >/dev/null 2>&1
    pg_sql "CREATE DATABASE $1" postgres >/dev/null
}

# "name<TAB>rows" of every table of database $1, named as db-snap names them.
counts() {
    pg_sql "SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END,
        (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname,
            c.relname), false, true, '')))[1]::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
        ORDER BY 1" "$1"
}

meta_counts() { sed -n 's/^table=//p' "$1.meta"; }

# A whole database as pg_dump prints it, less the random \restrict key.
dump_of() { "$PG_BIN/pg_dump" -d "$1" | grep -v '^\\\(un\)\?restrict '; }

@test "round trip: zstd -dc | psql into a fresh database gives back the very same database" {
    run -0 --separate-stderr db-snap -v
    snap=$output
    [[ $snap == "$store"/dbguard_test_*Z.sql.zst ]]
    # the version-matched pg_dump, not Debian's wrapper
    [[ $stderr == *"/usr/lib/postgresql/15/bin/pg_dump"* ]]
    [ "$(sed -n 's/^server_version=//p' "$snap.meta")" = "$(pg_sql 'SHOW server_version' | cut -d' ' -f1)" ]
    [ "$(sed -n 's/^host=//p' "$snap.meta")" = 127.0.0.1 ]
    [ "$(sed -n 's/^port=//p' "$snap.meta")" = "$PGPORT" ]
    diff <(counts dbguard_test) <(meta_counts "$snap")
    fresh_db restored
    zstd -q -dc "$snap" | psql_db restored >/dev/null
    diff <(dump_of dbguard_test) <(dump_of restored)
    diff <(counts restored) <(meta_counts "$snap")
}

@test "gzip round trip with gunzip -c, and a stream from -o - straight into psql" {
    run -0 --separate-stderr db-snap --compress=gzip
    [[ $output == *.sql.gz ]]
    gzip -t "$output"
    fresh_db restored_gz
    gunzip -c "$output" | psql_db restored_gz >/dev/null
    diff <(dump_of dbguard_test) <(dump_of restored_gz)
    fresh_db restored_stream
    db-snap -o - --meta "$BATS_TEST_TMPDIR/s.meta" | zstd -q -dc | psql_db restored_stream >/dev/null
    diff <(counts restored_stream) <(meta_counts "$BATS_TEST_TMPDIR/s")
}

@test "the counts describe exactly the snapshot while another client inserts" {
    (
        exec 3>&-
        for i in $(seq 1 3000); do
            echo "INSERT INTO events (payload) VALUES ('w$i'); INSERT INTO users (name) VALUES ('w$i');"
        done | "$PG_BIN/psql" -X -q >/dev/null
    ) &
    writer=$!
    for round in 1 2; do
        run -0 --separate-stderr db-snap
        fresh_db "during$round"
        zstd -q -dc "$output" | psql_db "during$round" >/dev/null
        diff <(counts "during$round") <(meta_counts "$output")
    done
    wait "$writer"
    writer=
}

# Hold an ACCESS EXCLUSIVE lock on users, so pg_dump waits for it mid-dump.
hold_lock() {
    ("$PG_BIN/psql" -X -q -c "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(90)" \
        3>&- >/dev/null 2>&1) &
    holder=$!
    for i in $(seq 200); do
        [ -n "$(pg_sql "SELECT 1 FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted
                         AND relation = 'users'::regclass")" ] && return 0
        sleep 0.05
    done
    return 1
}

release_lock() {
    pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE query LIKE '%pg_sleep(90)%' AND pid <> pg_backend_pid()" >/dev/null
    wait "$holder" || true
    holder=
}

# The pid of the running pg_dump (the one with --snapshot) of this file's
# server, if any: other tests on the machine may be dumping too.
dump_pid() {
    local f
    for f in /proc/[0-9]*/cmdline; do
        [[ $( { tr '\0' ' ' < "$f"; } 2>/dev/null) == *pg_dump*" -p $PGPORT "*--snapshot=* ]] && { f=${f%/cmdline}; echo "${f#/proc/}"; }
    done
    return 0
}

strays() { find "$store" -mindepth 1 -name '.*' ! -name .gitignore ! -name '.lock.*' -print 2>/dev/null; }

# Start db-snap in the background (SIGINT at its default) and wait until
# pg_dump is running and the temporary file exists.
start_blocked_snap() {
    env --default-signal=INT db-snap "$@" > "$BATS_TEST_TMPDIR/snap.out" 2> "$BATS_TEST_TMPDIR/snap.err" &
    snap_pid=$!
    for i in $(seq 200); do
        [ -n "$(dump_pid)" ] && [ -n "$(strays)" ] && return 0
        sleep 0.05
    done
    return 1
}

@test "no password in the argv of any process during a snapshot, nor in its output or metadata" {
    hold_lock
    start_blocked_snap --reason "check"
    local f cmd found=
    for f in /proc/[0-9]*/cmdline; do
        cmd=$( { tr '\0' ' ' < "$f"; } 2>/dev/null) || continue
        if [[ $cmd == *"$SNAP_PW"* || $cmd == *p%40ss* ]]; then
            found+="${f%/cmdline}: $cmd"$'\n'
        fi
    done
    [ -z "$found" ] || { echo "$found" >&2; false; }
    release_lock
    wait "$snap_pid"
    snap_pid=
    snap=$(cat "$BATS_TEST_TMPDIR/snap.out")
    [ -s "$snap.meta" ]
    ! grep -rqF -- "$SNAP_PW" "$store" "$BATS_TEST_TMPDIR/snap.out" "$BATS_TEST_TMPDIR/snap.err"
    run -0 --separate-stderr db-snap --list --format=json
    [[ $output$stderr != *"$SNAP_PW"* ]]
}

@test "SIGINT mid-dump: pg_dump is stopped, no file remains, nothing is listed; status 130" {
    hold_lock
    start_blocked_snap
    dump=$(dump_pid)
    kill -INT "$snap_pid"
    rc=0; wait "$snap_pid" || rc=$?
    snap_pid=
    [ "$rc" -eq 130 ]
    [ -z "$(strays)" ]
    [ -z "$(find "$store" -name 'dbguard_test_*')" ]
    for i in $(seq 100); do kill -0 "$dump" 2>/dev/null || break; sleep 0.05; done
    ! kill -0 "$dump" 2>/dev/null
    run -3 --separate-stderr db-snap --latest
}

@test "SIGKILL mid-dump: nothing listed; the next run removes the temporary file" {
    hold_lock
    start_blocked_snap
    kill -KILL "$snap_pid"
    rc=0; wait "$snap_pid" || rc=$?
    snap_pid=
    [ "$rc" -eq 137 ]
    [ -n "$(strays)" ]
    run -0 --separate-stderr db-snap --list --format=tsv
    [ "${#lines[@]}" -eq 1 ]
    run -3 --separate-stderr db-snap --latest
    release_lock
    run -0 --separate-stderr db-snap
    [ -z "$(strays)" ]
    run -0 --separate-stderr db-snap --verify
    [ "${#lines[@]}" -eq 1 ]
}

@test "a full disk (ulimit -f) stops the dump with a clear error, status 1, no partial file" {
    pg_sql "CREATE TABLE IF NOT EXISTS filler AS SELECT g, md5(g::text) || md5((g * 7)::text) AS t
            FROM generate_series(1, 40000) g" >/dev/null
    run -1 --separate-stderr bash -c 'ulimit -f 64; exec db-snap'
    [ -z "$output" ]
    [[ $stderr == "db-snap: cannot write '$store/dbguard_test_"*".sql.zst': File too large" ]]
    [ -z "$(strays)" ]
    [ -z "$(find "$store" -name 'dbguard_test_*')" ]
    [ -z "$(dump_pid)" ]
    pg_sql "DROP TABLE filler"
}

@test "two concurrent snapshots both end well and verify" {
    # --always: the second would otherwise reuse the first (unchanged).
    db-snap --always > a.out 2> a.err &
    a=$!
    db-snap --always > b.out 2> b.err &
    b=$!
    wait "$a"
    wait "$b"
    [ "$(cat a.out)" != "$(cat b.out)" ]
    run -0 --separate-stderr db-snap --verify
    [ "${#lines[@]}" -eq 2 ]
    diff <(meta_counts "$(cat a.out)") <(meta_counts "$(cat b.out)")
}

@test "wrong password and a missing database: one clear line, status 1, no password shown" {
    run -1 --separate-stderr db-snap --url "postgres://dbguard:not-the-one@127.0.0.1:$PGPORT/dbguard_test"
    [[ $stderr == "db-snap: access denied for user 'dbguard'"* ]]
    [ "$(echo "$stderr" | wc -l)" -eq 1 ]
    [[ $stderr != *not-the-one* ]]
    run -1 --separate-stderr db-snap --url "postgres://dbguard@127.0.0.1:$PGPORT/no_such_db"
    [[ $stderr == "db-snap: database 'no_such_db' does not exist"* ]]
    [ ! -e "$store" ]
}
