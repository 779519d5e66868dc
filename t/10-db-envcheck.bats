#!/usr/bin/env bats
# db-envcheck without servers: sources and their precedence, dotenv and URL
# parsing, classification, output formats, malformed input, secrets.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj"
    cd "$proj"
}

envline() { # the value of KEY in --format=env output (unquoted)
    local key=$1; shift
    db-envcheck --format=env "$@" 2>/dev/null | sed -n "s/^$key=//p" | sed "s/^'\(.*\)'\$/\1/"
}

@test "a Laravel .env naming shop_production gives 1 and says which rule and line" {
    printf 'APP_ENV=local\nDB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_PORT=3306\nDB_DATABASE=shop_production\nDB_USERNAME=shop\nDB_PASSWORD=s3cret\n' > .env
    run -1 --separate-stderr db-envcheck
    [[ $output == *"shop_production"*".env:5"* ]]
    [[ $output == *"production"* ]]
    [[ $output == *"'*prod*'"* ]]
    [[ $stderr == *"refusing"* ]]
    [[ $output$stderr != *s3cret* ]]
}

@test "APP_ENV=production in .env or in the environment gives 1" {
    printf 'APP_ENV=production\nDB_CONNECTION=pgsql\nDB_HOST=localhost\nDB_DATABASE=shop\n' > .env
    run -1 --separate-stderr db-envcheck
    [[ $output == *"environment 'production'"*".env:1"* ]]
    printf 'DB_CONNECTION=pgsql\nDB_HOST=localhost\nDB_DATABASE=shop\n' > .env
    run -0 --separate-stderr db-envcheck
    APP_ENV=production run -1 --separate-stderr db-envcheck
    [[ $output == *"environment APP_ENV"* ]]
}

@test ".env.testing on SQLite and .env on production: a test run gives 1 and reports both" {
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/testing.sqlite\n' > .env.testing
    printf 'DB_CONNECTION=pgsql\nDB_HOST=db.example.com\nDB_DATABASE=app_production\n' > .env
    run -1 --separate-stderr db-envcheck --test-run --format=tsv
    [ "${#lines[@]}" -eq 3 ]
    [[ ${lines[1]} == primary$'\t'sqlite* ]]
    [[ ${lines[1]} == *testing.sqlite* ]]
    [[ ${lines[2]} == also$'\t'postgres$'\t'db.example.com* ]]
    [[ ${lines[2]} == *$'\t'production$'\t'* ]]
    # not a test run: .env.testing is not read
    run -1 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    # APP_ENV=testing makes it a test run too
    APP_ENV=testing run -1 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 3 ]
}

@test "DATABASE_URL in the process environment beats .env" {
    printf 'DATABASE_URL=postgres://app@localhost/app_dev\n' > .env
    DATABASE_URL=postgres://ci@127.0.0.1:5433/ci_db run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_DATABASE=ci_db"* ]]
    [[ $output == *"DBGUARD_PORT=5433"* ]]
    [[ $output == *"DBGUARD_SOURCE=environment"* ]]
    DATABASE_URL=postgres://ci@127.0.0.1:5433/ci_db run -0 --separate-stderr db-envcheck
    [[ $output == *"primary target (from environment)"* ]]
    # A set variable wins over the same key in any dotenv file: .env's own
    # DATABASE_URL is not what the app reads.
    [[ $output != *"app_dev"* ]]
}

@test "one key in the environment (DB_PORT, DB_PASSWORD, DATABASE_URL) wins over .env's, and --explain says where each came from" {
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=5432\nDB_DATABASE=app\nDB_USERNAME=me\n' > .env
    DB_PORT=7001 run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [ "$(printf '%s\n' "${lines[1]}" | cut -f4)" = 7001 ]
    DB_PORT=7001 run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"port      7001"*"environment DB_PORT"* ]]
    [[ $output == *"database  app"*".env:4"* ]]
    DB_PASSWORD=from-env run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"password":"environment DB_PASSWORD"'* ]]
    DATABASE_URL=postgres://ci@127.0.0.1:5433/ci_db run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [[ ${lines[1]} == *ci_db* ]]
}

@test "process DB_* keys override .env key by key, with the source of each" {
    printf 'DB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_DATABASE=app\nDB_USERNAME=me\n' > .env
    DB_DATABASE=other run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"database":"other"'* ]]
    [[ $output == *'"database":"environment DB_DATABASE"'* ]]
    [[ $output == *'"host":".env:2"'* ]]
}

@test "--url beats everything and is the only target" {
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=prod_shop\n' > .env
    DATABASE_URL=postgres://x@localhost/envdb run -0 --separate-stderr db-envcheck --url=postgres://u@localhost/dev --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [[ ${lines[1]} == *$'\t'dev$'\t'* ]]
    run -0 --separate-stderr db-envcheck --url postgres://u@localhost/dev --format=env
    [[ $output == *"DBGUARD_SOURCE=--url"* ]]
}

@test "percent-encoded passwords decode, and the password is shown only with --with-password" {
    run -0 --separate-stderr db-envcheck --url='postgres://app:p%40ss%3Aw%2Frd@localhost:5432/app_dev'
    [[ $output$stderr != *"p@ss"* ]]
    [[ $output$stderr != *"p%40ss"* ]]
    for f in human env tsv json; do
        run -0 --separate-stderr db-envcheck --url='postgres://app:p%40ss%3Aw%2Frd@localhost/app_dev' --format=$f --explain
        [[ $output$stderr != *"p@ss"* && $output$stderr != *"p%40ss"* ]]
    done
    DATABASE_URL='postgres://app:p%40ss%3Aw%2Frd@localhost/app_dev' run -0 --separate-stderr db-envcheck --url
    [ "$output" = "postgresql://app@localhost:5432/app_dev" ]
    DATABASE_URL='postgres://app:p%40ss%3Aw%2Frd@localhost/app_dev' run -0 --separate-stderr db-envcheck --url --with-password
    [ "$output" = "postgresql://app:p%40ss%3Aw%2Frd@localhost:5432/app_dev" ]
}

@test "IPv6, Unix sockets, ports and libpq keyword strings" {
    [ "$(envline DBGUARD_HOST --url='postgres://u@[::1]:5544/app')" = "::1" ]
    [ "$(envline DBGUARD_PORT --url='postgres://u@[::1]:5544/app')" = "5544" ]
    [ "$(envline DBGUARD_CLASS --url='postgres://u@[::1]:5544/app')" = "local" ]
    [ "$(envline DBGUARD_HOST --url='postgresql://u@/app?host=/var/run/postgresql')" = "/var/run/postgresql" ]
    [ "$(envline DBGUARD_HOST --url='mysql://u@localhost/app?socket=/run/mysqld/mysqld.sock')" = "/run/mysqld/mysqld.sock" ]
    [ "$(envline DBGUARD_ENGINE --url='mariadb://u@localhost/app')" = "mysql" ]
    [ "$(envline DBGUARD_PORT --url='mysql://u@localhost/app')" = "3306" ]
    [ "$(envline DBGUARD_DATABASE --url="host=localhost port=5433 dbname='my db' user=me")" = "my db" ]
    [ "$(envline DBGUARD_PORT --url="host=localhost port=5433 dbname='my db' user=me")" = "5433" ]
}

@test "SQLite URLs: sqlite::memory:, sqlite:///abs, sqlite://rel, file:, bare paths" {
    [ "$(envline DBGUARD_DATABASE --url='sqlite::memory:')" = ":memory:" ]
    [ "$(envline DBGUARD_ENGINE --url='sqlite::memory:')" = "sqlite" ]
    [ "$(envline DBGUARD_DATABASE --url='sqlite:///var/lib/app.db')" = "/var/lib/app.db" ]
    [ "$(envline DBGUARD_DATABASE --url='sqlite://data/app.db')" = "data/app.db" ]
    [ "$(envline DBGUARD_DATABASE --url='file:data/app.sqlite?mode=ro')" = "data/app.sqlite" ]
    [ "$(envline DBGUARD_ENGINE --url='storage/app.sqlite3')" = "sqlite" ]
    [ "$(envline DBGUARD_CLASS --url='storage/app.sqlite3')" = "local" ]
}

@test "garbage URLs give a clear error naming the source and 2" {
    run -2 --separate-stderr db-envcheck --url='ftp://x/y'
    [[ $stderr == *"--url"*"unsupported URL scheme 'ftp://'"* ]]
    printf 'DATABASE_URL=postgres://u@h:99999/db\n' > .env
    run -2 --separate-stderr db-envcheck
    [[ $stderr == *".env:1"*"invalid port in the URL"* ]]
    run -2 --separate-stderr db-envcheck --url='postgres://u@[::1/db'
    [[ $stderr == *"unterminated '['"* ]]
    run -2 --separate-stderr db-envcheck --url='postgres://u:%zz@h/db'
    [[ $stderr == *"percent-escape"* ]]
}

@test "dotenv: export, quotes, escapes, expansion, comments, duplicates, CRLF, BOM" {
    printf '\xef\xbb\xbf# comment\r\nexport DB_CONNECTION=pgsql\r\nBASE=app\nDB_DATABASE="${BASE}_dev"\nDB_USERNAME='"'"'lit$BASE'"'"'  # c\nDB_HOST=local#host\nDB_PORT=5433 # inline\nDB_HOST=localhost\nEMPTY=\nMULTI="line1\nline2"\nDB_PASSWORD="a\\"b\\\\c\\nd"\n' > .env
    run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_ENGINE=postgres"* ]]
    [[ $output == *"DBGUARD_DATABASE=app_dev"* ]]
    [[ $output == *"DBGUARD_USER='lit\$BASE'"* ]]
    [[ $output == *"DBGUARD_HOST=localhost"* ]]
    [[ $output == *"DBGUARD_PORT=5433"* ]]
    [ -z "$stderr" ]
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"port":".env:7"'* ]]
    [[ $output == *'"host":".env:8"'* ]]
}

@test "multi-line quoted values keep the line numbers of later keys right" {
    printf 'CERT="-----BEGIN\nabc\n-----END"\nDB_CONNECTION=mysql\nDB_DATABASE=app\n' > .env
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"database":".env:5"'* ]]
}

@test "malformed dotenv lines: file:line, status 2, the other lines still count" {
    cases=(
        'this is not an assignment'
        '=novalue'
        'BAD KEY=x'
        'Q="unterminated'
        "S='unterminated"
        'T="closed" trailing'
    )
    for bad in "${cases[@]}"; do
        printf 'DB_CONNECTION=pgsql\n%s\nDB_DATABASE=still_read\n' "$bad" > .env
        run -2 --separate-stderr db-envcheck
        [[ $stderr == *"db-envcheck: .env:2: "* ]] || { echo "case: $bad -> $stderr" >&2; return 1; }
        [[ $output == *"still_read"* ]] || { echo "case: $bad lost the next line" >&2; return 1; }
    done
}

@test "an unreadable .env is reported by name and gives 2" {
    mkdir .env
    run -2 --separate-stderr db-envcheck
    [[ $stderr == *"cannot read '.env'"* ]]
}

@test "a .env others can write is reported by name" {
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=app.sqlite\n' > .env
    chmod 0666 .env
    run -0 --separate-stderr db-envcheck
    [[ $stderr == *"'.env' is writable by others"* ]]
}

@test "no database anywhere gives 3" {
    printf 'APP_NAME=demo\n' > .env
    run -3 --separate-stderr db-envcheck
    [[ $stderr == *"no database configured"* ]]
    rm .env
    run -3 --separate-stderr db-envcheck
}

@test "classes: single-label hosts are local, others remote, staging warned" {
    [ "$(envline DBGUARD_CLASS --url=postgres://u@db/app)" = "local" ]
    [ "$(envline DBGUARD_CLASS --url=mysql://u@mysql/app)" = "local" ]
    [ "$(envline DBGUARD_CLASS --url=postgres://u@127.0.0.2/app)" = "local" ]
    [ "$(envline DBGUARD_CLASS --url=postgres://u@10.1.2.3/app)" = "remote" ]
    run -0 --separate-stderr db-envcheck --url=postgres://u@db.internal.example/app
    [[ $stderr == *"is remote"* ]]
    run -0 --separate-stderr db-envcheck --url=postgres://u@localhost/app_staging
    [[ $stderr == *"is staging"* ]]
    [[ $output == *"staging pattern"* ]]
}

@test "policy: refuse_classes and project production patterns and hosts" {
    printf '[dbguard]\nrefuse_classes = staging, remote\n' > .dbguard.conf
    run -1 --separate-stderr db-envcheck --url=postgres://u@localhost/app_staging
    run -1 --separate-stderr db-envcheck --url=postgres://u@10.0.0.5/app
    printf '[dbguard]\nproduction_patterns = shopmain\nproduction_hosts = *.corp.example\n' > .dbguard.conf
    run -1 --separate-stderr db-envcheck --url=postgres://u@localhost/shopmain
    run -1 --separate-stderr db-envcheck --url=postgres://u@pg1.corp.example/app
    [[ $output == *"production_hosts"* ]]
    # built-in patterns stay even when the project lists its own
    run -1 --separate-stderr db-envcheck --url=postgres://u@localhost/app_prod
    DBGUARD_REFUSE_CLASSES=remote run -1 --separate-stderr db-envcheck --url=postgres://u@10.0.0.5/app
}

@test "a malformed .dbguard.conf is reported with file:line and gives 2" {
    printf '[dbguard]\nthis line is wrong\n' > .dbguard.conf
    run -2 --separate-stderr db-envcheck --url=postgres://u@localhost/app
    [[ $stderr == *".dbguard.conf:2"* ]]
}

@test "--explain lists every source in order and which one won" {
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=t.sqlite\n' > .env.testing
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=app\n' > .env
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"not a test run"* ]]
    [[ $output == *".env.testing"*"not a test run"* ]]
    [[ $output == *"* ./.env"*"primary"* || $output == *"* .env"*"primary"* ]]
    [[ $output == *"class"* ]]
    run -0 --separate-stderr db-envcheck --explain --test-run
    [[ $output == *".env.testing"*"primary"* ]]
    [[ $output == *".env "*"also configured"* ]]
}

@test "usage errors give 2" {
    run -2 --separate-stderr db-envcheck --format=xml
    [[ $stderr == *"unknown format 'xml'"* ]]
    run -2 --separate-stderr db-envcheck --mark=prod
    run -2 --separate-stderr db-envcheck stray
    run -0 --separate-stderr db-envcheck --help
    [[ $output == usage:* ]]
}

@test "--mark without a terminal and without --confirm gives 6 and writes nothing" {
    sqlite3 app.sqlite 'create table t(x); insert into t values (1);'
    run -6 --separate-stderr db-envcheck --url=sqlite://app.sqlite --mark=production < /dev/null
    [[ $stderr == *"--confirm"* ]]
    run -0 sqlite3 app.sqlite "select count(*) from sqlite_master where name='dbguard_marker'"
    [ "$output" = 0 ]
    run -6 --separate-stderr db-envcheck --url=sqlite://app.sqlite --mark=production --confirm=yes < /dev/null
    run -6 --separate-stderr db-envcheck --url=sqlite://app.sqlite --mark=production --confirm=other.sqlite < /dev/null
}

@test "colour on a terminal; NO_COLOR=1 turns it off, NO_COLOR set but empty does not (no-color.org)" {
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=app.sqlite\n' > .env
    run -0 env TERM=xterm script -qec "db-envcheck --offline" /dev/null
    [[ $output == *$'\e['* ]]
    run -0 env TERM=xterm NO_COLOR=1 script -qec "db-envcheck --offline" /dev/null
    [[ $output != *$'\e['* ]]
    run -0 env TERM=xterm NO_COLOR= script -qec "db-envcheck --offline" /dev/null
    [[ $output == *$'\e['* ]]
}

@test "no framework: a quoted name loads, a name alone and export NAME are skipped (-v), a lone CR ends a line" {
    printf '"DB_CONNECTION"=pgsql\nexport DB_HOST\nDB_PORT\nDB_DATABASE=app\rDB_USERNAME=me\n' > .env
    run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_ENGINE=postgres"* ]]
    [[ $output == *"DBGUARD_DATABASE=app"* ]]
    [[ $output == *"DBGUARD_USER=me"* ]]
    [ -z "$stderr" ]
    run -0 --separate-stderr db-envcheck -v --format=env
    [[ $stderr == *".env:2: skipped"* && $stderr == *".env:3: skipped"* ]]
}
