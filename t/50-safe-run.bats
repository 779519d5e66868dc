#!/usr/bin/env bats
# safe-run: the prefix guard, against real SQLite files and a real
# PostgreSQL and MariaDB (started once for this file).
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
    mariadb_start
}

teardown_file() {
    pg_stop
    mariadb_stop
}

setup() {
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj/database"
    cd "$proj"
    sqlite3 database/app.sqlite 'create table users(id integer primary key, name text);
        insert into users(name) values ("ann"), ("bob"), ("cy");'
    printf 'APP_ENV=local\nDB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
}

teardown() {
    # Never leave a loop or a command of a failed test behind.
    if [ -n "${loop_pid:-}" ]; then kill -KILL -- -"$loop_pid" 2>/dev/null || true; fi
    if [ -n "${pid:-}" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
}

journal_lines() { [ -f backups/journal ] && wc -l < backups/journal || echo 0; }

# How a process ended, as the calling shell sees it: "exit N" or "signal N".
ended() {
    perl -e 'system(@ARGV); my $s = $?; print(($s & 127) ? "signal " . ($s & 127) : "exit " . ($s >> 8))' "$@"
}

@test "the command's exit status passes through: 0, 1, 42" {
    run -0 --separate-stderr safe-run true
    [ -z "$stderr" ]
    run -1 --separate-stderr safe-run false
    run -42 --separate-stderr safe-run sh -c 'exit 42'
    [ "$stderr" = "safe-run: to undo: safe-run --undo" ]
    [ "$(journal_lines)" -eq 3 ]
}

@test "stdout and stdin are the command's own" {
    run -0 --separate-stderr safe-run sh -c 'read x; echo "got $x"' <<< "hello"
    [ "$output" = "got hello" ]
}

@test "options stop at the first operand: safe-run pg_dump -Fc keeps -Fc" {
    run -0 --separate-stderr safe-run printf '%s\n' -Fc --no-snap
    [ "$output" = $'-Fc\n--no-snap' ]
    DATABASE_URL=$PG_URL run -0 --separate-stderr safe-run pg_dump -Fc -f "$BATS_TEST_TMPDIR/d.dump"
    run -0 head -c 5 "$BATS_TEST_TMPDIR/d.dump"
    [ "$output" = PGDMP ]
}

@test "a command killed by SIGINT makes safe-run die of SIGINT" {
    run -0 --separate-stderr ended safe-run sh -c 'kill -INT $$'
    [ "$output" = "signal 2" ]
    [ "$(tail -n 1 backups/journal | cut -f9)" = "signal INT" ]
}

@test "a while-loop of safe-run in bash stops on ^C to the process group" {
    # Bounded: without a working safe-run the loop must still end.
    setsid env --default-signal=INT,QUIT bash -c 'n=0; while [ $n -lt 5 ]; do n=$((n + 1)); safe-run sleep 10; done; echo looped-on > loop.out' &
    loop_pid=$!
    sleep 1.5
    kill -INT -- -"$loop_pid"
    for _ in $(seq 50); do kill -0 "$loop_pid" 2>/dev/null || break; sleep 0.1; done
    run ! kill -0 "$loop_pid"
    [ ! -e loop.out ]
}

@test "SIGTERM to safe-run reaches the command" {
    safe-run sh -c 'trap "echo got-term > term.out; exit 3" TERM; : > started; while :; do sleep 0.1; done' &
    pid=$!
    wait_until 10 test -e started
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 3 ]
    [ "$(cat term.out)" = got-term ]
}

@test "an interactive read prompt works under a pseudo-terminal" {
    run -0 timeout 20 script -qec "safe-run bash -c 'read -p \"name? \" n; echo \"hello \$n\"'" /dev/null <<< "zoe"
    [[ $output == *"name? "* ]]
    [[ $output == *"hello zoe"* ]]
}

@test "127 for a command not found, 126 for one that cannot be executed, nothing snapshotted" {
    run -127 --separate-stderr safe-run no-such-command-xyz
    [[ $stderr == *"command not found: 'no-such-command-xyz'"* ]]
    printf 'echo hi\n' > notexec.sh
    run -126 --separate-stderr safe-run ./notexec.sh
    [ -z "$(ls backups/*.sqlite* 2>/dev/null)" ]
}

@test "production is refused by database name, APP_ENV, host pattern and marker" {
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_DATABASE=shop_production\n' > .env
    run -125 --separate-stderr safe-run touch ran
    [[ $stderr == *"shop_production"*"production pattern"* ]]
    printf 'APP_ENV=production\nDB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
    run -125 --separate-stderr safe-run touch ran
    [[ $stderr == *"environment 'production'"* ]]
    printf 'DB_CONNECTION=pgsql\nDB_HOST=pg.corp.example\nDB_DATABASE=app\n' > .env
    printf '[dbguard]\nproduction_hosts = *.corp.example\n' > .dbguard.conf
    run -125 --separate-stderr safe-run touch ran
    [[ $stderr == *"production host"* ]]
    rm .dbguard.conf
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
    db-envcheck -q --mark=production --confirm=app.sqlite
    run -125 --separate-stderr safe-run touch ran
    [[ $stderr == *"production marker"* ]]
    [ ! -e ran ]
    [ "$(cut -f9 backups/journal | grep -c '^refused$')" -eq 4 ]
}

@test "--allow-production needs the right name: --confirm or DBGUARD_CONFIRM" {
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/shop_production.sqlite\n' > .env
    cp database/app.sqlite database/shop_production.sqlite
    run -125 --separate-stderr safe-run --allow-production touch ran < /dev/null
    run -125 --separate-stderr safe-run --allow-production --confirm=yes touch ran
    run -125 --separate-stderr safe-run --allow-production --confirm=app.sqlite touch ran
    [ ! -e ran ]
    run -0 --separate-stderr safe-run --allow-production --confirm=shop_production.sqlite touch ran
    [ -e ran ]
    rm ran
    DBGUARD_CONFIRM=shop_production.sqlite run -0 --separate-stderr safe-run --allow-production touch ran
    [ -e ran ]
}

@test "no database: runs with one warning; --require-db and require_db refuse" {
    rm .env
    run -0 --separate-stderr safe-run echo ok
    [ "$output" = ok ]
    [[ $stderr == *"nothing was snapshotted"* ]]
    run -125 --separate-stderr safe-run --require-db echo ok
    printf '[safe-run]\nrequire_db = yes\n' > .dbguard.conf
    run -125 --separate-stderr safe-run echo ok
    [ -z "$output" ]
}

@test "a failed snapshot stops the command; --no-snap runs it anyway" {
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=app\nDB_USERNAME=nobody_here\nDB_PASSWORD=wrong\n' "$PGPORT" > .env
    run -125 --separate-stderr safe-run touch ran
    [ ! -e ran ]
    [[ $stderr == *"snapshot"*"failed"* ]]
    run -0 --separate-stderr safe-run --no-snap touch ran
    [ -e ran ]
}

@test "each run snapshots the database first, with the masked command as reason" {
    run -0 --separate-stderr safe-run sqlite3 database/app.sqlite 'delete from users'
    snap=$(ls backups/app_*.sqlite* | grep -v '\.meta$')
    [ -n "$snap" ]
    grep -q '^reason=safe-run: sqlite3 database/app.sqlite' "$snap.meta"
    [[ $(cat backups/journal) == *$'\t'"$PWD/$snap"$'\t'"exit 0"$'\t'* ]]
}

@test "snapshots PostgreSQL and MariaDB targets, and no password reaches argv, output or journal" {
    DATABASE_URL=$PG_URL run -0 --separate-stderr safe-run sh -c 'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\0" " " > cmdlines; echo done'
    [ "$output" = done ]
    [ -n "$(ls backups/"$PGDATABASE"_*.sql* | grep -v meta)" ]
    DATABASE_URL=$MY_URL run -0 --separate-stderr safe-run true
    [ -n "$(ls backups/"$MY_DATABASE"_*.sql* | grep -v meta)" ]
    run ! grep -F -- "$PGPASSWORD" cmdlines backups/journal backups/*.meta
    run ! grep -F -- "$MY_PASSWORD" backups/journal backups/*.meta
    DATABASE_URL=$PG_URL run -1 --separate-stderr safe-run psql "$PG_URL" -c 'select 1' -v ON_ERROR_STOP=1 -c 'select nope'
    [[ $stderr != *"$PGPASSWORD"* ]]
    [[ $(tail -n 1 backups/journal) == *"postgres://"*"****"* ]]
    run ! grep -F -- "$PGPASSWORD" backups/journal
}

@test "20 concurrent safe-runs leave 20 whole journal lines" {
    for i in $(seq 20); do safe-run -q sh -c "exit $((i % 3))" 2>/dev/null & done
    wait
    [ "$(wc -l < backups/journal)" -eq 20 ]
    run -0 awk -F'\t' 'NF != 12 { bad++ } END { print bad + 0 }' backups/journal
    [ "$output" = 0 ]
}

@test "--journal prints the last runs as a table, tsv and json" {
    safe-run true; safe-run false || true; safe-run sh -c 'exit 7' || true
    run -0 --separate-stderr safe-run --journal -n 2 --format=tsv
    [ "${#lines[@]}" -eq 3 ]
    [[ ${lines[0]} == n$'\t'start$'\t'duration$'\t'user$'\t'cwd$'\t'command$'\t'target$'\t'class$'\t'snapshot$'\t'status$'\t'command_class$'\t'test_run$'\t'note$'\t'mark ]]
    [ "$(printf '%s\n' "${lines[2]}" | cut -f1,10)" = $'1\texit 7' ]
    [ "$(printf '%s\n' "${lines[1]}" | cut -f1,10)" = $'2\texit 1' ]
    run -0 --separate-stderr safe-run --journal --format=json
    [[ $output == '[{"n":3,"start":'* ]]
    [[ $output == *'"status":"exit 1"'* ]]
    run -0 --separate-stderr safe-run --journal
    [[ $output == *"exit 7"* ]]
}

@test "a destructive docker compose down -v runs only after a snapshot, and is refused without one" {
    mkdir fakebin
    printf '#!/bin/sh\necho "docker $*" >> "%s/docker.calls"\n' "$proj" > fakebin/docker
    chmod +x fakebin/docker
    PATH="$proj/fakebin:$PATH" run -0 --separate-stderr safe-run docker compose down -v
    # Besides the command, safe-run may only ask the (fake) engine questions.
    [ "$(grep -v '^docker version ' docker.calls)" = "docker compose down -v" ]
    [ -n "$(ls backups/app_*.sqlite* | grep -v meta)" ]
    rm .env docker.calls
    PATH="$proj/fakebin:$PATH" run -125 --separate-stderr safe-run docker compose down --volumes
    [ ! -e docker.calls ] || ! grep -q ' down ' docker.calls
    rm -f docker.calls
    [[ $stderr == *"Docker"* ]]
    PATH="$proj/fakebin:$PATH" run -0 --separate-stderr safe-run --no-snap docker volume rm app_data
    [ "$(cat docker.calls)" = "docker volume rm app_data" ]
}

@test "--dry-run says what would happen and does nothing" {
    run -0 --separate-stderr safe-run --dry-run php artisan migrate:fresh
    [[ $output == *"class:    wipe"* ]]
    [[ $output == *"verdict:  would run"* ]]
    [[ $output == *"snapshot: sqlite"* ]]
    [ ! -d backups ] || [ -z "$(ls backups | grep sqlite)" ]
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/live.sqlite\n' > .env
    run -125 --separate-stderr safe-run --dry-run npm test
    [[ $output == *"class:    test (test run)"* ]]
    [[ $output == *"would refuse"* ]]
}

@test "a test command reads .env.testing first" {
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/testing.sqlite\n' > .env.testing
    run -0 --separate-stderr safe-run --dry-run vendor/bin/phpunit
    [[ ${lines[2]} == *"testing.sqlite (primary"* ]]
    run -0 --separate-stderr safe-run --dry-run ls
    [[ ${lines[2]} == *"app.sqlite (primary"* ]]
}

@test "-R brings the data back after a failing migration: SQLite, PostgreSQL, MariaDB" {
    run -1 --separate-stderr safe-run -R sh -c 'sqlite3 database/app.sqlite "delete from users; create table junk(x)"; exit 1'
    [[ $stderr == *"rolled back"*"back as it was"* ]]
    [ "$(sqlite3 database/app.sqlite 'select count(*) from users')" = 3 ]
    [ "$(sqlite3 database/app.sqlite "select count(*) from sqlite_master where name = 'junk'")" = 0 ]

    rm .env
    pg_sql 'create database rb_dev'
    pg_sql 'create table items(id int); insert into items select generate_series(1, 50)' rb_dev
    DATABASE_URL=${PG_URL%/*}/rb_dev run -2 --separate-stderr safe-run -R \
        sh -c '"$PG_BIN/psql" -X -q -d rb_dev -c "delete from items where id > 5" -c "alter table items add column x int"; exit 2'
    [[ $stderr == *"rolled back"* ]]
    [ "$(pg_sql 'select count(*) from items' rb_dev)" = 50 ]
    [ "$(pg_sql "select count(*) from information_schema.columns where table_name = 'items'" rb_dev)" = 1 ]

    my_sql 'create database rb_dev'
    my_sql 'create table items(id int); insert into items values (1), (2), (3)' rb_dev
    DATABASE_URL=${MY_URL%/*}/rb_dev run -3 --separate-stderr safe-run -R \
        sh -c 'MYSQL_PWD=$MY_PASSWORD mariadb --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -e "drop table items" rb_dev; exit 3'
    [[ $stderr == *"rolled back"* ]]
    [ "$(my_sql 'select count(*) from items' rb_dev)" = 3 ]
    run ! grep -F -- "$MY_PASSWORD" backups/journal
}
