#!/usr/bin/env bats
# A Node project (package.json: Next.js, Vite, Prisma, Knex) reads .env as
# dotenv 16 parses it and dotenv-expand 12 expands it.  The cases follow
# their own test suites (dotenv's test/.env and parse tests,
# dotenv-expand's test/.env and main tests).  Classification only.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj="$BATS_TEST_TMPDIR/node"
    mkdir -p "$proj"
    cd "$proj"
    printf '{"name":"app"}\n' > package.json
}

envline() { # the value of KEY in --format=env output (unquoted)
    local key=$1; shift
    db-envcheck --format=env "$@" 2>/dev/null | sed -n "s/^$key=//p" | sed "s/^'\(.*\)'\$/\1/"
}

@test "--explain says the dotenv files are read as dotenv + dotenv-expand read them" {
    printf 'DATABASE_URL=postgres://u@localhost/app\n' > .env
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"read as dotenv + dotenv-expand (Node) does"*"package.json"* ]]
}

@test "dotenv: a '#' anywhere ends an unquoted value; quotes (backticks too) keep it" {
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=app#tail\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = app ]
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE="app#tail"\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = 'app#tail' ]
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=`a'"'"'b "c"`\n' > .env
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"database":"a'"'"'b \"c\""'* ]]
}

@test "dotenv skips what it cannot read (no error), reports it with -v, and reads the rest" {
    printf 'DB_CONNECTION=pgsql\nthis is not an assignment\nDÉJÀ=x\nDB_DATABASE=still_read\n' > .env
    run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_DATABASE=still_read"* ]]
    [[ $stderr != *"this is not"* ]]
    run -0 --separate-stderr db-envcheck -v --format=env
    [[ $stderr == *".env:2: skipped"* ]]
    [[ $stderr == *".env:3: skipped"* ]]
}

@test "dotenv: 'KEY: value', spaces inside an unquoted value, \\n only in double quotes, export" {
    printf 'DB_CONNECTION: pgsql\nDB_DATABASE=two words\nexport DB_HOST=localhost\n' > .env
    [ "$(envline DBGUARD_ENGINE)" = postgres ]
    [ "$(envline DBGUARD_DATABASE)" = 'two words' ]
    [ "$(envline DBGUARD_HOST)" = localhost ]
}

@test "lone CR line ends are line ends" {
    printf 'DB_CONNECTION=pgsql\rDB_HOST=db.prod.example.com\rDB_DATABASE=shop\r' > .env
    run -1 --separate-stderr db-envcheck --format=tsv
    [[ ${lines[1]} == primary$'\t'postgres$'\t'db.prod.example.com* ]]
}

@test "dotenv-expand: \$VAR and \${VAR}, later lines too, the process environment first" {
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=$BASE-${BASE}\nBASE=shop\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = shop-shop ]
    printf 'DB_CONNECTION=pgsql\nBASE=file\nDB_DATABASE=${BASE}_db\n' > .env
    [ "$(BASE=env envline DBGUARD_DATABASE)" = env_db ]
    # an unset variable is empty
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=a${NOPE}b\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = ab ]
}

@test "dotenv-expand: \${X-d} \${X:-d} \${X+a} \${X:+a}, nested defaults, a stray '}' and \\\$" {
    printf 'DB_CONNECTION=pgsql\nY=1\nDB_DATABASE=${X-d1}_${X:-d2}_${Y+a1}_${Y:+a2}_${X:+no}\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = d1_d2_a1_a2_ ]
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=${A:-${B:-nested}}\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = nested ]
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=${A:-${B:-nested}}}\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = 'nested}' ]
    printf 'DB_CONNECTION=pgsql\nX=1\nDB_DATABASE=pa\\$X\\$s\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = 'pa$X$s' ]
}

@test "dotenv-expand: a self-reference is empty; a value that grows without end is 'expansion too large'" {
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=$DB_DATABASE\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = "" ]
    printf 'DB_CONNECTION=pgsql\nA=${A}${A}\nB=${A}${A}${A}\nDB_DATABASE=app\n' > .env
    run -2 --separate-stderr db-envcheck
    [[ $stderr == *"db-envcheck: .env:3: expansion too large"* ]]
    [[ $output == *"app"* ]]
}

@test "Prisma's DATABASE_URL in a Node project: a remote host through an expanded variable is remote" {
    printf 'HOST=db.example.com\nDATABASE_URL="postgresql://u:p@${HOST}:5432/app?schema=public"\n' > .env
    [ "$(envline DBGUARD_HOST)" = db.example.com ]
    [ "$(envline DBGUARD_CLASS)" = remote ]
}
