#!/usr/bin/env bats
# db-envcheck --ping and --mark against a real PostgreSQL, MariaDB and SQLite.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
    mariadb_start
    pg_sql 'create database app_dev'
    my_sql 'create database app_dev'
}

teardown_file() {
    pg_stop
    mariadb_stop
}

setup() {
    cd "$BATS_TEST_TMPDIR"
}

pg_dev_url() { printf '%s' "${PG_URL%/*}/app_dev"; }
my_dev_url() { printf '%s' "${MY_URL%/*}/app_dev"; }

@test "--ping reaches PostgreSQL: version, size, tables, no marker" {
    pg_sql 'create table items(id int); insert into items select generate_series(1, 10)'
    DATABASE_URL=$PG_URL run -0 --separate-stderr db-envcheck --ping
    [[ $output == *"reachable yes: server 15."*"1 tables, marker none"* ]]
    DATABASE_URL=$PG_URL run -0 --separate-stderr db-envcheck --ping --format=json
    [[ $output == *'"reachable":true,"version":"15.'* ]]
    [[ $output == *'"tables":1'* ]]
    [[ $output$stderr != *"$PGPASSWORD"* ]]
}

@test "--ping reaches MariaDB and SQLite" {
    my_sql 'create table t1(id int); create table t2(id int)'
    DATABASE_URL=$MY_URL run -0 --separate-stderr db-envcheck --ping --format=tsv
    [[ ${lines[0]} == *$'\treachable\tversion\tsize\ttables\tmarker' ]]
    [[ ${lines[1]} == *$'\tyes\t'*MariaDB*$'\t2\t' ]]
    sqlite3 app.sqlite 'create table a(x); insert into a values (1),(2)'
    run -0 --separate-stderr db-envcheck --url=sqlite://app.sqlite --ping
    [[ $output == *"reachable yes: server 3."*"1 tables, marker none"* ]]
    [[ $output$stderr != *"$MY_PASSWORD"* ]]
}

@test "--ping: a closed port gives 4, a wrong password no password in output" {
    port=$(free_port)
    run -4 --separate-stderr db-envcheck --ping --url="postgres://u@127.0.0.1:$port/app"
    [[ $stderr == *"127.0.0.1"* ]]
    run -4 --separate-stderr db-envcheck --ping --url="mysql://u@127.0.0.1:$port/app"
    run -4 --separate-stderr db-envcheck --ping --url=sqlite://missing.sqlite
    DATABASE_URL="postgres://$PGUSER:wrong-Secret-9@127.0.0.1:$PGPORT/$PGDATABASE" run -4 --separate-stderr db-envcheck --ping
    [[ $output$stderr != *"wrong-Secret-9"* ]]
    [[ $stderr == *"$PGUSER"* ]]
}

@test "the marker round trip on PostgreSQL: app_dev marked production gives 1" {
    DATABASE_URL=$(pg_dev_url) run -0 --separate-stderr db-envcheck --ping
    DATABASE_URL=$(pg_dev_url) run -6 --separate-stderr db-envcheck --mark=production < /dev/null
    DATABASE_URL=$(pg_dev_url) run -0 --separate-stderr db-envcheck --mark=production --confirm=app_dev
    DATABASE_URL=$(pg_dev_url) run -1 --separate-stderr db-envcheck --ping
    [[ $output == *"marker production"* ]]
    [[ $output == *"production marker"* ]]
    # without --ping the marker of a local database is read all the same;
    # --offline connects to nothing, and the names look innocent
    DATABASE_URL=$(pg_dev_url) run -1 --separate-stderr db-envcheck
    DATABASE_URL=$(pg_dev_url) run -0 --separate-stderr db-envcheck --offline
    DATABASE_URL=$(pg_dev_url) run -0 --separate-stderr db-envcheck --mark=clear --confirm=app_dev
    DATABASE_URL=$(pg_dev_url) run -0 --separate-stderr db-envcheck --ping
    [[ $output == *"marker none"* ]]
}

@test "the marker round trip on MariaDB" {
    DATABASE_URL=$(my_dev_url) run -0 --separate-stderr db-envcheck --mark=staging --confirm=app_dev
    DATABASE_URL=$(my_dev_url) run -0 --separate-stderr db-envcheck --ping
    [[ $output == *"marker staging"* ]]
    [[ $output == *"class     staging"* ]]
    DATABASE_URL=$(my_dev_url) run -0 --separate-stderr db-envcheck --mark=production --confirm=app_dev
    DATABASE_URL=$(my_dev_url) run -1 --separate-stderr db-envcheck --ping --format=env
    [[ $output == *"DBGUARD_CLASS=production"* ]]
    DATABASE_URL=$(my_dev_url) run -0 --separate-stderr db-envcheck --mark=clear --confirm=app_dev
    DATABASE_URL=$(my_dev_url) run -0 --separate-stderr db-envcheck --ping
}

@test "the marker round trip on SQLite, confirmed by file name or path" {
    sqlite3 app_dev.sqlite 'create table a(x)'
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=app_dev.sqlite\n' > .env
    run -6 --separate-stderr db-envcheck --mark=production --confirm=app_dev < /dev/null
    run -0 --separate-stderr db-envcheck --mark=production --confirm=app_dev.sqlite
    run -1 --separate-stderr db-envcheck --ping
    run -0 --separate-stderr db-envcheck --mark=clear --confirm="$PWD/app_dev.sqlite"
    run -0 --separate-stderr db-envcheck --ping
    [[ $output == *"1 tables, marker none"* ]]
}

@test "without --ping the marker of a local database is read: production is not 'safe'; --offline does not connect" {
    pg_sql 'create database marked_copy'
    url=${PG_URL%/*}/marked_copy
    DATABASE_URL=$url run -0 --separate-stderr db-envcheck --mark=production --confirm=marked_copy
    DATABASE_URL=$url run -1 --separate-stderr db-envcheck
    [[ $output == *"marker    production (read from the database)"* ]]
    [[ $output == *"verdict: refused"* ]]
    DATABASE_URL=$url run -0 --separate-stderr db-envcheck --offline
    [[ $output == *"marker    not read (--offline)"* ]]
    [[ $output == *"verdict: safe"* ]]
    run -2 --separate-stderr db-envcheck --offline --ping
    DATABASE_URL=${PG_URL%/*}/app_dev run -0 --separate-stderr db-envcheck
    [[ $output == *"marker    none (read from the database)"* ]]
    # A local server that is down: said, and no failure of its own.
    DATABASE_URL=postgres://x@127.0.0.1:$(free_port)/app run -0 --separate-stderr db-envcheck
    [[ $output == *"marker    not read: cannot reach postgres"* ]]
    pg_sql 'drop database marked_copy'
}

@test "--ping says 'missing' for a database the server says does not exist, exit 0" {
    DATABASE_URL=${PG_URL%/*}/not_there_yet run -0 --separate-stderr db-envcheck --ping --format=tsv
    [[ ${lines[1]} == *$'\tmissing\t'* ]]
    [[ $stderr == *"database 'not_there_yet' does not exist"* ]]
    DATABASE_URL=${MY_URL%/*}/not_there_yet run -0 --separate-stderr db-envcheck --ping --format=tsv
    [[ ${lines[1]} == *$'\tmissing\t'* ]]
}

@test "--ping with several hosts tries each on its own port, as libpq does" {
    closed=$(free_port)
    url=${PG_URL/@127.0.0.1:$PGPORT/@127.0.0.1:$closed,127.0.0.1:$PGPORT}
    [ "$url" != "$PG_URL" ]
    DATABASE_URL=$url run -0 --separate-stderr db-envcheck --ping
    [[ $output == *"reachable yes: server 15."* ]]
}
