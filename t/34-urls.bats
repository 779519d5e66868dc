#!/usr/bin/env bats
# Database URLs and libpq keyword strings as the client libraries read them
# (libpq's connection URI and keyword/value rules, the schemes frameworks
# accept), malformed URLs as one clear error naming the source, no error
# quoting a URL's userinfo, and --format=json on every exit status.
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

@test "libpq multi-host URL: every host is classified and the worst wins" {
    run -1 --separate-stderr db-envcheck --url='postgresql://localhost:5433,db.prod.example.com:5432/app' --format=tsv
    [[ ${lines[1]} == *$'\t'production$'\t'* ]]
    [[ ${lines[1]} == *"'db.prod.example.com'"* ]]
    run -0 --separate-stderr db-envcheck --url='postgresql://localhost:5433,db.example.com/app' --format=tsv
    [[ ${lines[1]} == *$'\t'remote$'\t'* ]]
    run -0 --separate-stderr db-envcheck --url='postgresql://localhost:5433,127.0.0.1:5434/app' --format=tsv
    [[ ${lines[1]} == *$'\t'local$'\t'* ]]
    # in a keyword string too, and from .env
    printf 'DATABASE_URL=host=localhost,db.prod.example.com port=5433,5432 dbname=app\n' > .env
    run -1 --separate-stderr db-envcheck
    [[ $output == *"production"*"db.prod.example.com"* ]]
    # --url lists each host with its port (an empty port item is the default)
    run -0 --separate-stderr db-envcheck --url='postgresql://u@localhost:5433,db.example.com/app' --url
    [ "$output" = "postgresql://u@localhost:5433,db.example.com:5432/app" ]
}

@test "several hosts in a MySQL URL are refused: MySQL clients take one" {
    run -2 --separate-stderr db-envcheck --url='mysql://u@localhost,db.example.com/app'
    [[ $stderr == *"--url: several hosts in a URL are a libpq feature"* ]]
}

@test "hostaddr is where libpq connects; service= cannot be pinned" {
    run -0 --separate-stderr db-envcheck --url='postgresql://localhost/app?hostaddr=192.0.2.10' --format=tsv
    [[ ${lines[1]} == primary$'\t'postgres$'\t'192.0.2.10$'\t'* ]]
    [[ ${lines[1]} == *$'\t'remote$'\t'* ]]
    run -0 --separate-stderr db-envcheck --url='host=localhost hostaddr=192.0.2.10 dbname=app' --format=tsv
    [[ ${lines[1]} == *$'\t'192.0.2.10$'\t'* ]]
    run -0 --separate-stderr db-envcheck --url='postgresql:///app?service=prod' --format=tsv
    [[ ${lines[1]} == *$'\t'unknown$'\t'*"pg_service.conf"* ]]
    run -0 --separate-stderr db-envcheck --url='service=prod' --format=tsv
    [[ ${lines[1]} == *$'\t'unknown$'\t'* ]]
}

@test "percent-encoded parameter names are decoded as libpq decodes them" {
    [ "$(envline DBGUARD_HOST --url='postgresql:///app?h%6Fst=db.example.com')" = db.example.com ]
    [ "$(envline DBGUARD_CLASS --url='postgresql:///app?h%6Fst=db.example.com')" = remote ]
}

@test "the schemes users write: mysql-connector, mysql2, pgsql, postgis, sqlite3, timescale; cockroach is unknown" {
    [ "$(envline DBGUARD_ENGINE --url='mysql-connector://u@localhost/app')" = mysql ]
    [ "$(envline DBGUARD_ENGINE --url='mysql2://u@localhost/app')" = mysql ]
    [ "$(envline DBGUARD_ENGINE --url='pgsql://u@localhost/app')" = postgres ]
    [ "$(envline DBGUARD_ENGINE --url='postgis://u@localhost/app')" = postgres ]
    [ "$(envline DBGUARD_ENGINE --url='timescale://u@localhost/app')" = postgres ]
    [ "$(envline DBGUARD_ENGINE --url='sqlite3:///tmp/app.db')" = sqlite ]
    [ "$(envline DBGUARD_ENGINE --url='postgresql+psycopg2://u@localhost/app')" = postgres ]
    run -0 --separate-stderr db-envcheck --url='cockroach://u@localhost:26257/app' --format=tsv
    [[ ${lines[1]} == *$'\t'unknown$'\t'*"engine 'cockroach' is not one dbguard knows"* ]]
}

@test "malformed URLs are one clear error naming the source, never exit 0 with an empty value" {
    cases=(
        'sqlite://'
        'sqlite:'
        'postgres://'
        'postgres://us%00er@localhost/app'
        'postgres://u@localhost/ap%00p'
        'postgres://u:p%00w@localhost/app'
        'postgres://u@:5432/app'
        'mysql://u@:3306/app'
        'postgres://u@localhost/app?dbname=x%00y'
    )
    for url in "${cases[@]}"; do
        run -2 --separate-stderr db-envcheck --url="$url"
        [ "${#stderr_lines[@]}" -eq 1 ] || { echo "case $url: ${stderr_lines[*]}" >&2; return 1; }
        [[ $stderr == "db-envcheck: --url: "* ]] || { echo "case $url: $stderr" >&2; return 1; }
        printf 'DATABASE_URL=%s\n' "$url" > .env
        run -2 --separate-stderr db-envcheck
        [ "${#stderr_lines[@]}" -eq 1 ] || { echo "case .env $url: ${stderr_lines[*]}" >&2; return 1; }
        [[ $stderr == "db-envcheck: .env:1: DATABASE_URL: "* ]] || { echo "case .env $url: $stderr" >&2; return 1; }
    done
    # a host of 100 KiB
    long=$(head -c 102400 /dev/zero | tr '\0' a)
    run -2 --separate-stderr db-envcheck --url="postgres://u@$long/app"
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == *"--url: the host part of the URL is longer than 1024 bytes"* ]]
    run -2 --separate-stderr db-envcheck --url="postgres://u@$(head -c 300 /dev/zero | tr '\0' a)/app"
    [[ $stderr == *"longer than 255 bytes"* ]]
}

@test "no error quotes any part of a URL's userinfo" {
    for url in 'postgres://user:s3cr/etpw@db.example.com/app' 'postgres://user:s3cr:etpw@db.example.com:x/app' \
               'mysql://user:s3cr#etpw@db.example.com/app' 'user:s3cretpw@db://x' 'postgres://user:s3cr%zzetpw@h/app' \
               'host=h password=s3cretpw port=s3cretpw' "host=h password='s3cretpw"; do
        run -2 --separate-stderr db-envcheck --url="$url"
        [[ $stderr != *s3cr* && $stderr != *etpw* ]] || { echo "leak: $stderr" >&2; return 1; }
        [[ $output != *s3cr* && $output != *etpw* ]]
        printf 'DATABASE_URL=%s\n' "$url" > .env
        run -2 --separate-stderr db-envcheck --format=json
        [[ $output$stderr != *s3cr* && $output$stderr != *etpw* ]] || { echo "leak: $output$stderr" >&2; return 1; }
    done
}

@test "--url keeps a Unix-socket target a socket" {
    run -0 --separate-stderr db-envcheck --url='postgresql:///app?host=/var/run/postgresql' --url
    [ "$output" = "postgresql:///app?host=/var/run/postgresql" ]
    printf 'DB_CONNECTION=pgsql\nDB_SOCKET=/run/postgresql\nDB_DATABASE=app\n' > .env
    run -0 --separate-stderr db-envcheck --url
    [ "$output" = "postgresql:///app?host=/run/postgresql" ]
    run -0 --separate-stderr db-envcheck --url='mysql://u@localhost/app?socket=/run/mysqld/mysqld.sock' --url
    [ "$output" = "mysql://u@/app?socket=/run/mysqld/mysqld.sock" ]
    # and what it prints reads back as the same socket
    run -0 --separate-stderr db-envcheck --url='postgresql:///app?host=/var/run/postgresql' --format=tsv
    [[ ${lines[1]} == primary$'\t'postgres$'\t'/var/run/postgresql$'\t'* ]]
}

@test "--format=json prints one object on every exit status, errors included, each once" {
    DATABASE_URL=ftp://x run -2 --separate-stderr db-envcheck --format=json
    want='{"verdict":"error","targets":[],"errors":["environment DATABASE_URL: unsupported URL scheme'
    [[ $output == "$want"* ]]
    [ "${#lines[@]}" -eq 1 ]
    [ "$(grep -o 'unsupported URL scheme' <<<"$output" | wc -l)" -eq 1 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    run -2 --separate-stderr db-envcheck --format=json -C /nonexistent
    want='{"verdict":"error","targets":[],"errors":["cannot change to'
    [[ $output == "$want"*"/nonexistent"* ]]
    run -3 --separate-stderr db-envcheck --format=json
    [[ $output == '{"verdict":"none","targets":[],"errors":["no database configured here'* ]]
    run -1 --separate-stderr db-envcheck --format=json --url=postgres://u@localhost/app_production
    [[ $output == '{"verdict":"refused","targets":[{"primary":true'*'"errors":[]}' ]]
    # a malformed line beside a database: the targets and the errors
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=app\nQ="open\n' > .env
    run -2 --separate-stderr db-envcheck --format=json
    [[ $output == '{"verdict":"error","targets":[{"primary":true'*'"errors":[".env:3: unterminated double-quoted value"]}' ]]
}

@test "an engine it cannot name, or none, is unknown, never local" {
    printf 'DB_CONNECTION=oracle\nDB_HOST=127.0.0.1\nDB_DATABASE=app\n' > .env
    [ "$(envline DBGUARD_CLASS)" = unknown ]
    printf 'DB_HOST=127.0.0.1\nDB_DATABASE=app\n' > .env
    [ "$(envline DBGUARD_CLASS)" = unknown ]
}
