#!/usr/bin/env bats
# safe-run --undo [N] and the numbered journal, against real SQLite files and
# a real PostgreSQL (started once for this file).
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
}

teardown_file() {
    pg_stop
}

setup() {
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj/database" "$proj/fakebin"
    cd "$proj"
    sqlite3 database/app.sqlite 'create table users(id integer primary key, name text);
        insert into users(name) values ("ann"), ("bob"), ("cy");'
    printf 'APP_ENV=local\nDB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
    touch artisan
    # "php artisan migrate:fresh" as Laravel does it to a SQLite database:
    # every table dropped, the schema created again, no rows.
    cat > fakebin/php <<'EOF'
#!/bin/sh
case "$2" in
migrate:fresh) sqlite3 database/app.sqlite 'drop table users; create table users(id integer primary key, name text)' ;;
db:seed) sqlite3 database/app.sqlite 'insert into users(name) values ("seeded")' ;;
test) exit "${TEST_EXIT:-0}" ;;
esac
EOF
    chmod +x fakebin/php
    export PATH="$proj/fakebin:$PATH"
}

teardown() {
    if [ -n "${session_pid:-}" ]; then kill "$session_pid" 2>/dev/null || true; fi
}

users() { sqlite3 database/app.sqlite 'select count(*) from users'; }

@test "undo a migrate:fresh with one command; after a test run, --journal shows which N" {
    run -0 --separate-stderr safe-run php artisan migrate:fresh
    [ "$stderr" = "safe-run: to undo: safe-run --undo" ]
    [ "$(users)" = 0 ]
    run -6 --separate-stderr safe-run --undo < /dev/null
    [[ $stderr == *"undo run 1: php artisan migrate:fresh"* ]]
    [[ $stderr == *"sqlite database/app.sqlite <- '$PWD/backups/app_"* ]]
    [[ $stderr == *"--confirm=app.sqlite"* ]]
    [ "$(users)" = 0 ]
    run -0 --separate-stderr safe-run --undo --confirm=app.sqlite
    [ "$(users)" = 3 ]
    [[ $stderr == *"undone: 1 database is back as it was before 'php artisan migrate:fresh'"* ]]
    # Twice is the same as once: the undo is no undo point itself.
    sqlite3 database/app.sqlite 'insert into users(name) values ("dan")'
    run -0 --separate-stderr safe-run --undo --confirm=app.sqlite
    [ "$(users)" = 3 ]
    [ "$(tail -n 1 backups/journal | cut -f5,10)" = $'safe-run --undo 1\tundo' ]

    # A test run after the wipe snapshots the wiped state: it is run 1 now.
    run -0 --separate-stderr safe-run php artisan migrate:fresh
    run -0 --separate-stderr safe-run php artisan test
    [ -z "$stderr" ]
    run -0 --separate-stderr safe-run --journal -n 3
    [[ ${lines[0]} == "  -  "*"safe-run --undo 1" ]]
    [[ ${lines[4]} == "  2  "*"php artisan migrate:fresh" ]]
    [[ ${lines[7]} == "  1  "*"php artisan test" ]]
    run -0 --separate-stderr safe-run --undo 2 --confirm=app.sqlite
    [ "$(users)" = 3 ]
}

@test "--undo N goes back before the Nth last run; -q hides the hint" {
    run -0 --separate-stderr safe-run -q php artisan db:seed
    [ -z "$stderr" ]
    [ "$(users)" = 4 ]
    run -0 --separate-stderr safe-run -q php artisan db:seed
    [ "$(users)" = 5 ]
    run -0 --separate-stderr safe-run --undo 2 --dry-run
    [[ $stderr == *"undo run 2: php artisan db:seed"* ]]
    [ "$(users)" = 5 ]
    run -0 --separate-stderr safe-run --undo 2 --confirm=app.sqlite
    [ "$(users)" = 3 ]
    run -3 --separate-stderr safe-run --undo 3 --confirm=app.sqlite
    [[ $stderr == *"no run 3 to undo"*"2 runs with a snapshot"* ]]
    run -2 --separate-stderr safe-run --undo two
}

@test "a failing run prints one undo line, however many databases" {
    pg_sql 'create database undo_two'
    pg_sql 'create table t(x int); insert into t values (1), (2)' undo_two
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=undo_two\nDB_USERNAME=%s\nDB_PASSWORD=%s\n' \
        "$PGPORT" "$PGUSER" "$PGPASSWORD" > .env
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env.local
    run -1 --separate-stderr safe-run sh -c 'sqlite3 database/app.sqlite "delete from users"; "$PG_BIN/psql" -X -q -d undo_two -c "delete from t"; exit 1'
    [ "$stderr" = "safe-run: to undo: safe-run --undo" ]
    [ "$(tail -n 1 backups/journal | cut -f8 | tr ',' '\n' | wc -l)" -eq 2 ]
    # Both names are needed; one alone touches nothing.
    run -6 --separate-stderr safe-run --undo --confirm=undo_two
    [ "$(users)" = 0 ]
    [ "$(pg_sql 'select count(*) from t' undo_two)" = 0 ]
    run -0 --separate-stderr safe-run --undo --confirm=undo_two --confirm=app.sqlite
    [ "$(users)" = 3 ]
    [ "$(pg_sql 'select count(*) from t' undo_two)" = 2 ]
}

@test "--journal marks a pruned or corrupt snapshot, and --undo refuses saying why" {
    run -0 --separate-stderr safe-run php artisan db:seed
    run -0 --separate-stderr safe-run php artisan migrate:fresh
    second=$(tail -n 1 backups/journal | cut -f8)
    first=$(tail -n 2 backups/journal | head -n 1 | cut -f8)
    rm "$second"
    printf 'x' >> "$first"
    run -0 --separate-stderr safe-run --journal
    [[ $output == *"php artisan db:seed  [fails verification]"* ]]
    [[ $output == *"php artisan migrate:fresh  [pruned]"* ]]
    run -0 --separate-stderr safe-run --journal --format=tsv
    [ "$(printf '%s\n' "${lines[@]}" | cut -f1,14 | tail -n 2)" = $'2\tfails verification\n1\tpruned' ]
    run -3 --separate-stderr safe-run --undo --confirm=app.sqlite
    [[ $stderr == *"cannot undo run 1 ('php artisan migrate:fresh'): its snapshot '$second' is gone (pruned or removed); nothing was changed"* ]]
    run -5 --separate-stderr safe-run --undo 2 --confirm=app.sqlite
    [[ $stderr == *"fails verification"* ]]
    [ "$(users)" = 0 ]
}

@test "rollback of a database in use names the exact command; terminate_connections = yes ends the sessions" {
    pg_sql 'create database in_use'
    pg_sql 'create table items(id int); insert into items select generate_series(1, 20)' in_use
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=in_use\nDB_USERNAME=%s\nDB_PASSWORD=%s\n' \
        "$PGPORT" "$PGUSER" "$PGPASSWORD" > .env
    # Another session, as artisan serve or a GUI would hold one.
    "$PG_BIN/psql" -X -q -d in_use -c 'select pg_sleep(120)' >/dev/null 2>&1 &
    session_pid=$!
    wait_until 10 sleeping_on in_use
    run -1 --separate-stderr safe-run -R sh -c '"$PG_BIN/psql" -X -q -d in_use -c "delete from items"; exit 1'
    [[ $stderr == *"to end them and restore: db-restore --terminate-connections --confirm=in_use '$PWD/backups/in_use_"* ]]
    [ "$(pg_sql 'select count(*) from items' in_use)" = 0 ]
    printf '[safe-run]\nterminate_connections = yes\n' > .dbguard.conf
    run -0 --separate-stderr safe-run --undo --confirm=in_use
    [[ $stderr == *"ending it (--terminate-connections)"* ]]
    [ "$(pg_sql 'select count(*) from items' in_use)" = 20 ]
    # -R too, with another session open again.
    "$PG_BIN/psql" -X -q -d in_use -c 'select pg_sleep(120)' >/dev/null 2>&1 &
    session_pid=$!
    wait_until 10 sleeping_on in_use
    run -1 --separate-stderr safe-run -R sh -c '"$PG_BIN/psql" -X -q -d in_use -c "delete from items"; exit 1'
    [[ $stderr == *"rolled back"* ]]
    [ "$(pg_sql 'select count(*) from items' in_use)" = 20 ]
}

@test "outside any project the journal goes under \$XDG_STATE_HOME/dbguard, not ./backups" {
    mkdir "$BATS_TEST_TMPDIR/elsewhere"
    cd "$BATS_TEST_TMPDIR/elsewhere"
    run -0 --separate-stderr safe-run true
    [ ! -e backups ]
    [ "$(wc -l < "$HOME/.local/state/dbguard/journal")" -eq 1 ]
    XDG_STATE_HOME="$BATS_TEST_TMPDIR/state" run -0 --separate-stderr safe-run true
    [ "$(wc -l < "$BATS_TEST_TMPDIR/state/dbguard/journal")" -eq 1 ]
    XDG_STATE_HOME="$BATS_TEST_TMPDIR/state" run -0 --separate-stderr safe-run --journal --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    # A project keeps its journal in its store.
    cd "$proj"
    run -0 --separate-stderr safe-run true
    [ -s backups/journal ]
}
