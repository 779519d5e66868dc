#!/usr/bin/env bats
# A Laravel project (artisan) reads .env as phpdotenv 5 does, and DB_URL as
# Laravel's ConfigurationUrlParser does.  The cases follow phpdotenv's own
# parser tests (EntryParserTest, LinesTest) and Laravel's
# ConfigurationUrlParserTest.  Classification only: no servers.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj="$BATS_TEST_TMPDIR/laravel"
    mkdir -p "$proj"
    cd "$proj"
    touch artisan
}

envline() { # the value of KEY in --format=env output (unquoted)
    local key=$1; shift
    db-envcheck --format=env "$@" 2>/dev/null | sed -n "s/^$key=//p" | sed "s/^'\(.*\)'\$/\1/"
}

@test "lone CR line ends (old Mac files) are line ends: the production database is refused, and safe-run would refuse" {
    printf 'DB_CONNECTION=pgsql\rDB_HOST=db.prod.example.com\rDB_DATABASE=shop_production\r' > .env
    run -1 --separate-stderr db-envcheck --format=tsv
    [[ ${lines[1]} == primary$'\t'postgres$'\t'db.prod.example.com$'\t'5432$'\t'shop_production* ]]
    [[ ${lines[1]} == *$'\t'production$'\t'* ]]
    run -125 --separate-stderr safe-run --dry-run php artisan migrate:fresh
    [[ $output == *"would refuse"* ]]
    [[ $output != *"would run"* ]]
    # the line numbers are those of phpdotenv's lines
    run -1 --separate-stderr db-envcheck --format=json
    [[ $output == *'"database":".env:3"'* ]]
}

@test "--explain says the project's dotenv files are read as phpdotenv reads them" {
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"read as phpdotenv (Laravel) does"*"artisan"* ]]
}

@test "phpdotenv: a '#' ends an unquoted value even without a space before it" {
    printf 'DB_CONNECTION=mysql\nDB_DATABASE=app#not-part\nDB_HOST=127.0.0.1 # comment\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = app ]
    [ "$(envline DBGUARD_HOST)" = 127.0.0.1 ]
}

@test "phpdotenv: \${VAR} is expanded, \$VAR is not, an unknown \${VAR} stays as written" {
    printf 'DB_CONNECTION=mysql\nBASE=shop\nDB_DATABASE=${BASE}_dev\nDB_USERNAME=$BASE\nDB_HOST=${NOPE}\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = shop_dev ]
    [ "$(envline DBGUARD_USER)" = '$BASE' ]
    [ "$(envline DBGUARD_HOST)" = '${NOPE}' ]
    # a later line is not yet loaded when an earlier one is resolved
    printf 'DB_CONNECTION=mysql\nDB_DATABASE=${LATER}\nLATER=x\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = '${LATER}' ]
    # the process environment is seen (and wins for its own key)
    printf 'DB_CONNECTION=mysql\nDB_DATABASE=${FROM_ENV}_db\n' > .env
    [ "$(FROM_ENV=ci envline DBGUARD_DATABASE)" = ci_db ]
}

@test "phpdotenv: single quotes are literal; double quotes take \\\" \\\\ \\\$ and \\n; unquoted \\\$ keeps its backslash" {
    printf 'DB_CONNECTION=mysql\nX=1\nDB_DATABASE='"'"'a$X ${X}'"'"'\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = 'a$X ${X}' ]
    printf 'DB_CONNECTION=mysql\nX=1\nDB_DATABASE="a\\${X}b\\\\c"\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = 'a${X}b\c' ]
    printf 'DB_CONNECTION=mysql\nX=1\nDB_DATABASE=a\\${X}\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = 'a\1' ]
}

@test "phpdotenv refuses what it refuses: whitespace in an unquoted value, a bad escape, an open quote, a bad name" {
    cases=(
        'DB_DATABASE=two words'
        'DB_DATABASE="bad \q escape"'
        "DB_DATABASE='open"
        'DB-DATABASE=x'
        'DÉJÀ=x'
        '=x'
        'DB_DATABASE="closed" trailing'
    )
    for bad in "${cases[@]}"; do
        printf 'DB_CONNECTION=pgsql\nDB_HOST=localhost\n%s\n' "$bad" > .env
        run -2 --separate-stderr db-envcheck
        [[ $stderr == *"db-envcheck: .env:3: "* ]] || { echo "case: $bad -> $stderr" >&2; return 1; }
    done
    # the message never quotes the value
    printf 'DB_CONNECTION=pgsql\nDB_PASSWORD=s3cret value\n' > .env
    run -2 --separate-stderr db-envcheck
    [[ $stderr == *".env:2: phpdotenv refuses the line: unexpected whitespace"* ]]
    [[ $output$stderr != *s3cret* ]]
}

@test "phpdotenv: a name alone unsets it; export, quoted names and multi-line values load" {
    printf 'DB_CONNECTION=mysql\nDB_DATABASE=first\nDB_DATABASE\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = "" ]
    printf 'export DB_CONNECTION=mysql\n"DB_DATABASE"=quoted\n' > .env
    [ "$(envline DBGUARD_ENGINE)" = mysql ]
    [ "$(envline DBGUARD_DATABASE)" = quoted ]
    printf 'DB_CONNECTION=mysql\nKEY="-----BEGIN\nabc\n-----END"\nDB_DATABASE=after\n' > .env
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"database":".env:5"'* ]]
    # an unclosed multi-line value: phpdotenv fails the file
    printf 'DB_CONNECTION=mysql\nKEY="never closed\nDB_DATABASE=after\n' > .env
    run -2 --separate-stderr db-envcheck
    [[ $stderr == *".env:2: phpdotenv drops the rest of the file"* ]]
}

@test "DB_URL with host 'null' is no host: Laravel takes DB_HOST" {
    printf 'DB_CONNECTION=pgsql\nDB_URL=postgres://app:pw@null:5432/shop\nDB_HOST=db.prod.example.com\n' > .env
    run -1 --separate-stderr db-envcheck --format=tsv
    [[ ${lines[1]} == primary$'\t'postgres$'\t'db.prod.example.com$'\t'5432$'\t'shop* ]]
    [[ ${lines[1]} != *"single-label"* ]]
}

@test "DB_URL is merged over the DB_* settings: DB_PORT and DB_DATABASE stay when the URL leaves them out" {
    printf 'DB_CONNECTION=pgsql\nDB_PORT=6543\nDB_DATABASE=from_env\nDB_URL=postgres://u@db.example.com\n' > .env
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"host":"db.example.com"'* ]]
    [[ $output == *'"port":6543'* ]]
    [[ $output == *'"database":"from_env"'* ]]
    [[ $output == *'"port":".env:2"'* ]]
    [[ $output == *'"host":".env:4"'* ]]
    # what the URL says wins
    printf 'DB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_DATABASE=local\nDB_URL=mysql2://u@db.example.com:3307/remote\n' > .env
    [ "$(envline DBGUARD_HOST)" = db.example.com ]
    [ "$(envline DBGUARD_DATABASE)" = remote ]
    [ "$(envline DBGUARD_PORT)" = 3307 ]
    [ "$(envline DBGUARD_ENGINE)" = mysql ]
}

@test "Laravel's SQLite URLs: sqlite:///name is relative to the project, sqlite://// absolute" {
    printf 'DB_URL=sqlite:///database/app.sqlite\n' > .env
    [ "$(envline DBGUARD_ENGINE)" = sqlite ]
    [ "$(envline DBGUARD_DATABASE)" = database/app.sqlite ]
    printf 'DB_URL=sqlite:////var/lib/app.sqlite\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = /var/lib/app.sqlite ]
    printf 'DB_URL=sqlite://localhost/database/app.sqlite\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = database/app.sqlite ]
    printf 'DB_URL=sqlite:///:memory:\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = :memory: ]
}

@test "Laravel 10's DATABASE_URL is read too; DB_URL wins over it" {
    printf 'DB_CONNECTION=pgsql\nDATABASE_URL=postgres://u@localhost/old\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = old ]
    printf 'DB_CONNECTION=pgsql\nDATABASE_URL=postgres://u@localhost/old\nDB_URL=postgres://u@localhost/new\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = new ]
}

@test "an engine dbguard does not know is unknown, never local" {
    printf 'DB_CONNECTION=oracle\nDB_HOST=localhost\nDB_DATABASE=app\n' > .env
    run -0 --separate-stderr db-envcheck --format=tsv
    [[ ${lines[1]} == *$'\t'unknown$'\t'* ]]
    [[ ${lines[1]} == *"engine 'oracle' is not one dbguard knows"* ]]
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"verdict":"warn"'* ]]
}
