#!/usr/bin/env bats
# db-restore against a real PostgreSQL: the scratch database and the name
# swap, sessions on the target, the marker, database properties, and a
# restore killed in the middle of the load and in the middle of the swap.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
}

teardown_file() {
    pg_stop
}

setup() {
    app=app$BATS_TEST_NUMBER
    pg_sql "CREATE DATABASE $app" postgres
    pg_sql "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
        INSERT INTO users (name) VALUES ('ann'), ('bob'), ('cy');
        CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id), total numeric);
        INSERT INTO orders VALUES (1, 1, 9.5), (2, 3, 20);
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
        CREATE SEQUENCE tickets; SELECT setval('tickets', 42);" "$app" >/dev/null
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj"
    cd "$proj"
    url="postgres://$PGUSER:$(_dbg_urlencode "$PGPASSWORD")@127.0.0.1:$PGPORT/$app"
    printf 'DATABASE_URL=%s\n' "$url" > .env
}

# The database as SQL, less the random key pg_dump puts in \restrict lines.
pgdump() {
    "$PG_BIN/pg_dump" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "${1:-$app}" | grep -v '^\\\(un\)\?restrict '
}
snap() { run -0 --separate-stderr db-snap "$@"; snapshot=$output; [ -f "$snapshot" ]; }
wreck() {
    pg_sql "UPDATE users SET name = 'zed' WHERE id = 2; DELETE FROM orders WHERE id = 1;
        DELETE FROM users WHERE id = 1; CREATE TABLE extra (x int); INSERT INTO extra VALUES (1);
        DROP VIEW big_orders; ALTER TABLE users ADD COLUMN age int; SELECT setval('tickets', 99);
        CREATE TABLE later (y int); DROP TABLE orders;" "$app" >/dev/null
}
databases() { pg_sql "SELECT datname FROM pg_database WHERE datname LIKE '${app}\\_%' ORDER BY 1" postgres; }
marker() { pg_sql "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$app'" postgres; }
# Wait until a query on the server says yes (up to 10 s).
query_true() { [ "$(pg_sql "$1" postgres)" = t ]; }
wait_for() { wait_until 10 query_true "$1"; }

@test "a restore gives back exactly the snapshot: rows, tables, columns, views, sequences" {
    before=$(pgdump)
    snap
    wreck
    [ "$(pgdump)" != "$before" ]
    run -0 --separate-stderr db-restore --confirm="$app"
    [ -z "$output" ]
    [[ $stderr == *"restored '$app' from '$snapshot': 2 tables, 5 rows, every count as recorded"* ]]
    [ "$(pgdump)" = "$before" ]
    [ "$(pg_sql "SELECT last_value FROM tickets" "$app")" = 42 ]
    # No scratch or replaced database is left behind.
    [ -z "$(databases)" ]
}

@test "the safety snapshot restores the state before the restore" {
    snap
    wreck
    wrecked=$(pgdump)
    run -0 --separate-stderr db-restore --confirm="$app" "$snapshot"
    safety=$(ls "$PWD"/backups/*_pre-restore.sql.zst)
    [[ $stderr == *"safety snapshot of '$app' as it is now: $safety"* ]]
    run -0 --separate-stderr db-restore --confirm="$app" --no-safety-snap "$safety"
    [ "$(pgdump)" = "$wrecked" ]
}

@test "an open session on the target is reported and the restore refused without --terminate-connections" {
    snap
    wreck
    want=$(pgdump)
    PGDATABASE=$app "$PG_BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" \
        -c "SELECT pg_sleep(60)" >/dev/null 2>&1 3>&- &
    sleeper=$!
    wait_for "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = '$app' AND query LIKE '%pg_sleep(60)%'"
    run -1 --separate-stderr db-restore --confirm="$app" "$snapshot"
    [[ $stderr == *"'$app' has 1 other session open"$'\n'* ]]
    [[ $stderr == *"application psql"* ]]
    [[ $stderr == *"--terminate-connections"* ]]
    [ "$(pgdump)" = "$want" ]
    [ -z "$(ls backups | grep pre-restore)" ]
    kill -0 "$sleeper"
    run -0 --separate-stderr db-restore --confirm="$app" --terminate-connections "$snapshot"
    [[ $stderr == *"ending it (--terminate-connections)"* ]]
    status=0
    wait "$sleeper" || status=$?
    [ "$status" -ne 0 ]
    [ "$(pg_sql "SELECT count(*) FROM users" "$app")" = 3 ]
}

@test "a PostgreSQL snapshot aimed at a SQLite target is refused with 2" {
    snap
    sqlite_fixture "$proj/app.sqlite"
    want=$(sha256sum "$proj/app.sqlite")
    run -2 --separate-stderr db-restore --url="sqlite://$proj/app.sqlite" --confirm=app.sqlite "$snapshot"
    [[ $stderr == *"is a postgres snapshot; it cannot be restored into sqlite"* ]]
    [ "$(sha256sum "$proj/app.sqlite")" = "$want" ]
}

@test "the target's marker, comment, owner, settings and privileges survive a restore" {
    pg_sql "CREATE ROLE reader_$app; GRANT CONNECT ON DATABASE $app TO reader_$app;
        ALTER DATABASE $app SET search_path = public, \"\$user\";
        ALTER DATABASE $app SET work_mem = '7MB';
        COMMENT ON DATABASE $app IS 'the shop'" postgres >/dev/null
    run -0 --separate-stderr db-envcheck --mark=production --confirm="$app"
    [[ $(marker) == "dbguard:production the shop" ]]
    snap
    run -0 --separate-stderr db-envcheck --mark=clear --confirm="$app"
    wreck
    run -0 --separate-stderr db-restore --confirm="$app" "$snapshot"
    [ "$(marker)" = "the shop" ]
    run -0 --separate-stderr db-envcheck --ping --format=tsv
    [[ ${lines[1]} == *$'\tlocal\t'* ]]
    [ "$(pg_sql "SELECT has_database_privilege('reader_$app', '$app', 'CONNECT')" postgres)" = t ]
    run -0 pg_sql "SELECT unnest(setconfig) FROM pg_db_role_setting s JOIN pg_database d
        ON d.oid = s.setdatabase WHERE d.datname = '$app' ORDER BY 1" postgres
    [ "${lines[0]}" = 'search_path=public, "$user"' ]
    [ "${lines[1]}" = work_mem=7MB ]
    # A production target stays production.
    snap --label plain
    run -0 --separate-stderr db-envcheck --mark=production --confirm="$app"
    run -1 --separate-stderr db-restore --confirm="$app" "$snapshot"
    [[ $stderr == *"refusing to restore into production database '$app'"* ]]
    run -0 --separate-stderr db-restore --confirm="$app" --allow-production "$snapshot"
    [[ $(marker) == "dbguard:production the shop" ]]
}

@test "a corrupted snapshot gives 5 and leaves the target untouched" {
    snap
    wreck
    want=$(pgdump)
    size=$(stat -c %s "$snapshot")
    printf '\x5a' | dd of="$snapshot" bs=1 seek=$((size / 2)) conv=notrunc status=none
    run -5 --separate-stderr db-restore --confirm="$app" "$snapshot"
    [ "$(pgdump)" = "$want" ]
    [ -z "$(databases)" ]
}

@test "--check passes on a good snapshot, fails on altered counts, and leaves nothing" {
    snap
    wreck
    want=$(pgdump)
    run -0 --separate-stderr db-restore --check -q "$snapshot"
    [ -z "$stderr" ]
    sed -i 's/^table=orders\t2$/table=orders\t3/; s/^rows=5$/rows=6/' "$snapshot.meta"
    meta_seal "$snapshot.meta"
    run -1 --separate-stderr db-restore --check "$snapshot"
    [[ $stderr == *"row count mismatch in table 'orders': the snapshot has 3 rows, the restored database 2"* ]]
    [ "$(pgdump)" = "$want" ]
    [ -z "$(databases)" ]
}

@test "--keep-old keeps the replaced database; --into restores beside the target" {
    snap
    wreck
    wrecked=$(pgdump)
    run -0 --separate-stderr db-restore --confirm="$app" --keep-old --no-safety-snap "$snapshot"
    old=$(databases)
    [[ $old == "${app}_old_"* ]]
    [[ $stderr == *"the replaced database is kept as '$old'"* ]]
    [ "$(pgdump "$old")" = "$wrecked" ]
    pg_sql "DROP DATABASE $old" postgres
    restored=$(pgdump)
    wreck
    wrecked=$(pgdump)
    run -0 --separate-stderr db-restore --into="${app}_copy" "$snapshot" </dev/null
    [ "$(pgdump)" = "$wrecked" ]
    [ "$(pgdump "${app}_copy")" = "$restored" ]
    run -6 --separate-stderr db-restore --into="${app}_copy" "$snapshot" </dev/null
    run -0 --separate-stderr db-restore --into="${app}_copy" --confirm="${app}_copy" "$snapshot" </dev/null
    pg_sql "DROP DATABASE ${app}_copy" postgres
}

@test "a dropped database is restored: created again" {
    before=$(pgdump)
    snap
    pg_sql "DROP DATABASE $app" postgres
    run -0 --separate-stderr db-restore --confirm="$app"
    [ "$(pgdump)" = "$before" ]
}

@test "SIGKILL in the middle of the load leaves the old database; the next run cleans up" {
    snap
    wreck
    want=$(pgdump)
    mkfifo "$BATS_TEST_TMPDIR/stream"
    db-restore --confirm="$app" --no-safety-snap --meta="$snapshot.meta" - \
        < "$BATS_TEST_TMPDIR/stream" 2>/dev/null 3>&- &
    pid=$!
    exec 9>"$BATS_TEST_TMPDIR/stream"
    head -c 300 "$snapshot" >&9
    wait_for "SELECT count(*) > 0 FROM pg_database WHERE datname = '${app}__dbguard_restore_$pid'"
    sleep 0.3
    # db-restore and its psql are running: no password in any argv.
    printf '%s\n' "$PGPASSWORD" > "$BATS_TEST_TMPDIR/pw"
    # (processes come and go while grep reads /proc: read them through cat)
    run -1 sh -c 'cat /proc/[0-9]*/cmdline 2>/dev/null | grep -qaFf "$1"' _ "$BATS_TEST_TMPDIR/pw"
    kill -KILL "$pid"
    wait "$pid" || true
    exec 9>&-
    [ "$(pgdump)" = "$want" ]
    [ "$(databases)" = "${app}__dbguard_restore_$pid" ]
    run -0 --separate-stderr db-restore --confirm="$app" --no-safety-snap "$snapshot"
    [[ $stderr == *"removing '${app}__dbguard_restore_$pid', left by an interrupted db-restore"* ]]
    [ -z "$(databases)" ]
    [ "$(pg_sql "SELECT count(*) FROM users" "$app")" = 3 ]
}

@test "SIGKILL in the middle of the swap leaves the old database; the next run cleans up" {
    snap
    wreck
    want=$(pgdump)
    # Another transaction holds the target's catalogue row: the swap waits.
    "$PG_BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres \
        -c "BEGIN; ALTER DATABASE $app CONNECTION LIMIT 50; SELECT pg_sleep(60); ROLLBACK" \
        >/dev/null 2>&1 3>&- &
    blocker=$!
    wait_for "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%CONNECTION LIMIT 50%'
        AND state = 'active' AND pid <> pg_backend_pid()"
    db-restore --confirm="$app" --no-safety-snap "$snapshot" 2>/dev/null 3>&- &
    pid=$!
    wait_for "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE 'ALTER DATABASE%RENAME%'
        AND wait_event_type = 'Lock'"
    kill -KILL "$pid"
    wait "$pid" || true
    pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE query LIKE '%CONNECTION LIMIT 50%' AND pid <> pg_backend_pid()" postgres >/dev/null
    wait "$blocker" || true
    # The swap's session ends once it sees its client gone: rolled back.
    wait_for "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'dbguard'
        AND pid <> pg_backend_pid()"
    [ "$(pgdump)" = "$want" ]
    [ "$(databases)" = "${app}__dbguard_restore_$pid" ]
    run -0 --separate-stderr db-restore --confirm="$app" --no-safety-snap "$snapshot"
    [[ $stderr == *"left by an interrupted db-restore"* ]]
    [ -z "$(databases)" ]
    [ "$(pg_sql "SELECT count(*) FROM users" "$app")" = 3 ]
}

@test "no password in any output or file of the store" {
    snap
    wreck
    run -0 --separate-stderr db-restore -v --confirm="$app" "$snapshot"
    [[ $stderr != *"$PGPASSWORD"* ]]
    [[ $output != *"$PGPASSWORD"* ]]
    run -1 grep -rqF "$PGPASSWORD" backups
}

@test "plain db-restore takes the newest good snapshot that is not a pre-restore one: twice is once" {
    snap
    wreck
    run -0 --separate-stderr db-restore --confirm="$app"
    [ "$(pg_sql 'SELECT count(*) FROM users' "$app")" = 3 ]
    pg_sql "DELETE FROM users WHERE id = 2" "$app" >/dev/null
    # The pre-restore snapshot of the first restore is newer; it is not the one taken.
    run -0 --separate-stderr db-restore --confirm="$app"
    [[ $stderr == *"restored '$app' from '$snapshot'"* ]]
    [ "$(pg_sql 'SELECT count(*) FROM users' "$app")" = 3 ]
}

@test "--check: a server that is down gives 4, a missing client 1, neither says the snapshot failed" {
    snap
    port=$(free_port)
    run -4 --separate-stderr db-restore --check --url "postgres://$PGUSER@127.0.0.1:$port/$app" "$snapshot"
    [[ $stderr == *"was not checked: the server cannot be reached"* ]]
    [[ $stderr != *"failed the check"* ]]
    mkdir nobin
    ln -s "$(command -v zstd)" nobin/zstd
    run -1 --separate-stderr env PATH="$PWD/nobin" "$DBGUARD_BIN/db-restore" --check "$snapshot"
    [[ $stderr == *"the client psql is not installed"* ]]
    [[ $stderr != *"failed the check"* ]]
}
