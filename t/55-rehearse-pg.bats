#!/usr/bin/env bats
# safe-run --rehearse against a real PostgreSQL: migrations that lose data
# and ones that do not, run through commands shaped like the frameworks'
# own; the original is unchanged after every rehearsal (its dump's
# checksum before and after), and no copy is left behind.
bats_require_minimum_version 1.5.0
load helpers/common
load helpers/undo-hint

FAKES=$BATS_TEST_DIRNAME/fixtures/rehearse

setup_file() {
    pg_start
}

teardown_file() {
    pg_stop
}

setup() {
    app=app$BATS_TEST_NUMBER
    pg_sql "CREATE DATABASE $app" postgres
    pg_sql "CREATE TABLE users (id serial PRIMARY KEY, name varchar(255) NOT NULL, email text, bio text,
            code text);
        INSERT INTO users (name, email, code) VALUES ('ann', 'ann@example.org', '12'),
            ('bob', 'bob@example.org', 'A-7'), ('cy', NULL, 'n/a');
        CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users (id) ON DELETE CASCADE, body text);
        INSERT INTO posts VALUES (1, 1, 'hello'), (2, 1, 'again'), (3, 2, 'hi');
        CREATE TABLE audit (id int PRIMARY KEY, msg text);
        INSERT INTO audit SELECT g, 'event ' || g FROM generate_series(1, 5) g;" "$app" >/dev/null
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj" "$BATS_TEST_TMPDIR/bin"
    cd "$proj"
    url="postgres://$PGUSER:$(_dbg_urlencode "$PGPASSWORD")@127.0.0.1:$PGPORT/$app"
    printf 'DATABASE_URL=%s\n' "$url" > .env
    # A migration as a framework runs it: DATABASE_URL from the environment,
    # else from .env (which never overrides a variable that is set).
    cat > migrate.sh <<'SH'
[ -n "$DATABASE_URL" ] || DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' .env)
exec psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -f migration.sql
SH
    before=$(checksum)
}

teardown() {
    if [ -n "${pid:-}" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
}

# The original's content: its dump, less the random key of \restrict lines.
checksum() {
    "$PG_BIN/pg_dump" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$app" | grep -v '^\\\(un\)\?restrict ' | md5sum
}
copies() { pg_sql "SELECT datname FROM pg_database WHERE datname LIKE '%\\_\\_dbguard\\_rehearse\\_%'" postgres; }
# The rehearsal left the original as it was and no copy behind.
untouched() {
    [ "$(checksum)" = "$before" ]
    [ -z "$(copies)" ]
}
# A migration run by `psql "$DATABASE_URL" -f migration.sql`.
migration() { printf '%s\n' "$1" > migration.sql; }
rehearse() { safe-run --rehearse "$@" sh migrate.sh; }

@test "drop a table: its rows are reported lost (1); the original is untouched" {
    migration 'DROP TABLE audit;'
    run -1 --separate-stderr rehearse
    [[ $output == *"LOST  table audit dropped, with 5 rows"* ]]
    [[ $output == *"- table audit"* ]]
    [[ $output == *"verdict: data would be lost"* ]]
    untouched
    # The status is the journal's 9th field (the command class and more
    # follow since issue 12).
    [ "$(tail -n 1 backups/journal | cut -f 5,9)" = $'sh migrate.sh\trehearsal: data would be lost' ]
}

@test "drop a column holding values: lost, with the count of values; an all-NULL column: nothing lost (0)" {
    migration 'ALTER TABLE users DROP COLUMN email;'
    run -1 --separate-stderr rehearse
    [[ $output == *"LOST  column users.email dropped, with 2 values not NULL"* ]]
    untouched
    migration 'ALTER TABLE users DROP COLUMN bio;'
    run -0 --separate-stderr rehearse
    [[ $output == *"ok    column users.bio dropped; it held only NULL"* ]]
    [[ $output == *"verdict: nothing lost"* ]]
    untouched
}

@test "text to integer USING a cast: the values the cast changed, compared by primary key" {
    migration "ALTER TABLE users ALTER COLUMN code TYPE integer
        USING nullif(regexp_replace(code, '[^0-9]', '', 'g'), '')::integer;"
    run -1 --separate-stderr rehearse --format=json
    printf '%s' "$output" | python3 -c '
import json, sys
r = json.load(sys.stdin)
d = r["databases"][0]
t = d["type_changes"][0]
assert r["verdict"] == "data would be lost" and r["status"] == "exit 0" and r["output"] is None, r
assert (t["table"], t["column"], t["from"], t["to"]) == ("users", "code", "text", "integer"), t
assert t["compared"] and t["changed"] == 2 and t["truncated"] == 0, t
assert d["original_unchanged"] and d["loss"]'
    untouched
    # values that survive the cast unchanged: nothing lost
    pg_sql "UPDATE users SET code = '0' || id" "$app"
    before=$(checksum)
    run -0 --separate-stderr rehearse
    [[ $output == *"changed type text -> integer: 0 values changed, 0 truncated (compared by primary key)"* ]]
    untouched
}

@test "narrowing a varchar below its values fails on the copy: the failure and its output are reported (1)" {
    migration 'ALTER TABLE users ALTER COLUMN name TYPE varchar(2);'
    run -1 --separate-stderr rehearse
    [[ $output == *"command: exit 3 after"*"(on the copy)"* ]]
    [[ $output == *"| "*"value too long for type character varying(2)"* ]]
    [[ $output == *"verdict: the command failed on the copy (exit 3)"* ]]
    untouched
}

@test "a data migration deleting rows, and the rows ON DELETE CASCADE takes with them" {
    migration 'DELETE FROM audit WHERE id > 2;'
    run -1 --separate-stderr rehearse
    [[ $output == *"LOST  3 rows of audit deleted (5 -> 2)"* ]]
    untouched
    migration 'DELETE FROM users WHERE id = 1;'
    run -1 --separate-stderr rehearse --format=json
    printf '%s' "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)["databases"][0]
rows = {r["table"]: r for r in d["rows_deleted"]}
assert rows["users"]["lost"] == 1 and rows["users"]["cascade_from"] is None, rows
assert rows["posts"]["lost"] == 2 and rows["posts"]["cascade_from"] == "users", rows'
    untouched
}

@test "renames, a NOT NULL column with a default, a new constraint: nothing lost (0)" {
    migration 'ALTER TABLE audit RENAME TO audit_log; ALTER TABLE users RENAME COLUMN email TO mail;
        ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;
        ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name);'
    run -0 --separate-stderr rehearse
    [[ $output == *"ok    table audit renamed to audit_log"* ]]
    [[ $output == *"ok    column users.email renamed to mail"* ]]
    [[ $output == *"new   column users.active boolean"* ]]
    [[ $output == *"new   unique constraint on users: UNIQUE (name)"* ]]
    [[ $output == *"verdict: nothing lost"* ]]
    untouched
}

@test "fake bin/rails db:migrate reading DATABASE_URL from the environment" {
    mkdir -p bin db/migrate config
    cp "$FAKES/fake-rails" bin/rails
    printf 'development:\n  url: <%%= ENV["DATABASE_URL"] %%>\n' > config/database.yml
    rm .env
    printf 'ALTER TABLE users DROP COLUMN email;\n' > db/migrate/001_drop_email.sql
    DATABASE_URL=$url run -1 --separate-stderr safe-run --rehearse bin/rails db:migrate
    [[ $output == *"LOST  column users.email dropped, with 2 values not NULL"* ]]
    untouched
}

@test "fake npx prisma migrate deploy reading DATABASE_URL from .env" {
    mkdir -p prisma/migrations/1_init
    cp "$FAKES/fake-npx" "$BATS_TEST_TMPDIR/bin/npx"
    printf 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n' > prisma/schema.prisma
    printf 'DELETE FROM posts WHERE id = 3;\n' > prisma/migrations/1_init/migration.sql
    PATH=$BATS_TEST_TMPDIR/bin:$PATH run -1 --separate-stderr safe-run --rehearse npx prisma migrate deploy
    [[ $output == *"LOST  1 row of posts deleted (3 -> 2)"* ]]
    untouched
}

@test "fake php artisan migrate reading DB_* from .env, as Laravel does" {
    mkdir -p database/migrations
    cp "$FAKES/fake-php" "$BATS_TEST_TMPDIR/bin/php"
    touch artisan
    printf 'APP_ENV=local\nDB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=%s\nDB_USERNAME=%s\nDB_PASSWORD=%s\n' \
        "$PGPORT" "$app" "$PGUSER" "$PGPASSWORD" > .env
    printf 'DROP TABLE posts;\n' > database/migrations/2024_01_01_drop_posts.sql
    PATH=$BATS_TEST_TMPDIR/bin:$PATH run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"LOST  table posts dropped, with 3 rows"* ]]
    untouched
}

@test "fake manage.py migrate reading the environment through its settings" {
    mkdir -p mysite migrations
    cp "$FAKES/fake-manage.py" manage.py
    touch mysite/__init__.py
    cat > mysite/settings.py <<'PY'
import os
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': os.environ.get('SHOP_DB_NAME', 'app'),
        'HOST': os.environ.get('SHOP_DB_HOST', '127.0.0.1'),
        'PORT': os.environ.get('SHOP_DB_PORT', '5432'),
        'USER': os.environ.get('SHOP_DB_USER', 'app'),
        'PASSWORD': os.environ.get('SHOP_DB_PASSWORD', ''),
    }
}
PY
    rm .env
    printf 'UPDATE users SET bio = NULL; ALTER TABLE users ADD COLUMN age int;\n' > migrations/0001.sql
    SHOP_DB_NAME=$app SHOP_DB_HOST=127.0.0.1 SHOP_DB_PORT=$PGPORT SHOP_DB_USER=$PGUSER SHOP_DB_PASSWORD=$PGPASSWORD \
        run -0 --separate-stderr safe-run --rehearse python3 manage.py migrate
    [[ $output == *"new   column users.age integer"* ]]
    [[ $output == *"verdict: nothing lost"* ]]
    untouched
}

@test "a command that ignores the redirect and writes to the original is caught (125) with the undo" {
    run -125 --separate-stderr safe-run --rehearse psql -X -q "$url" -c 'DELETE FROM audit'
    [[ $stderr == *"the command did not follow the redirect: it changed postgres"*"/$app"* ]]
    [ -z "$(copies)" ]
    [ "$(checksum)" != "$before" ]
    # The hint printed is the one command that undoes it: follow it.
    follow_undo_hint "$app"
    [ "$(checksum)" = "$before" ]
    # An UPDATE that keeps every count and value is a write all the same.
    run -125 --separate-stderr safe-run --rehearse psql -X -q "$url" -c 'UPDATE audit SET msg = msg WHERE id = 1'
    [[ $stderr == *"the command did not follow the redirect: it changed postgres"*"/$app"* ]]
}

@test "--then-run: runs on the real database when nothing would be lost; stops on a loss unless --accept-loss" {
    migration 'ALTER TABLE users ADD COLUMN age int;'
    run -0 --separate-stderr safe-run --rehearse --then-run sh migrate.sh
    [ "$(pg_sql "SELECT count(*) FROM information_schema.columns WHERE column_name = 'age'" "$app")" = 1 ]
    before=$(checksum)
    migration 'DROP TABLE audit;'
    run -1 --separate-stderr safe-run --rehearse --then-run sh migrate.sh
    [[ $stderr == *"not running"*"data would be lost (--accept-loss runs it anyway)"* ]]
    untouched
    run -0 --separate-stderr safe-run --rehearse --then-run --accept-loss \
        sh migrate.sh
    [ "$(pg_sql "SELECT count(*) FROM pg_tables WHERE tablename = 'audit'" "$app")" = 0 ]
    # -R: a failure on the real database is rolled back (here the rehearsal passes, the real run fails)
    before=$(checksum)
    run -1 --separate-stderr safe-run --rehearse --then-run -R \
        sh -c '[ -n "$DATABASE_URL" ] && exit 0; psql -X -q "$(sed -n "s/^DATABASE_URL=//p" .env)" -c "DELETE FROM posts"; exit 1'
    [[ $stderr == *"rolled back"* ]]
    [ "$(checksum)" = "$before" ]
}

@test "another session on the original: the copy is loaded from a snapshot instead of a template" {
    "$PG_BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$app" -c 'SELECT pg_sleep(60)' &
    pid=$!
    wait_until 10 sleeping_on "$app"
    migration 'DROP TABLE audit;'
    run -1 --separate-stderr rehearse -v
    [[ $stderr == *"made by snapshot"* ]]
    [[ $output == *"LOST  table audit dropped, with 5 rows"* ]]
    kill "$pid"
    wait "$pid" || true
    pid=
    untouched
}

@test "interrupted during the command: the copy is dropped; a killed run's copy is dropped by the next" {
    safe-run --rehearse sh -c 'touch started; sleep 60' > /dev/null 2>&1 &
    pid=$!
    wait_until 10 test -f started
    [ -n "$(copies)" ]
    kill -TERM "$pid"
    status=0
    wait "$pid" || status=$?
    pid=
    [ "$status" -eq 143 ]
    [ -z "$(copies)" ]
    # a copy whose run no longer exists
    pg_sql "CREATE DATABASE ${app}__dbguard_rehearse_999999 TEMPLATE $app" postgres
    migration 'SELECT 1;'
    run -0 --separate-stderr rehearse
    [[ $stderr == *"dropped '${app}__dbguard_rehearse_999999', the copy of a rehearsal that did not finish"* ]]
    untouched
}

@test "two databases, one from .env.local and one from .env: both copied, both reported" {
    other=${app}_other
    pg_sql "CREATE DATABASE $other" postgres
    pg_sql "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);" "$other" >/dev/null
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=%s\nDB_USERNAME=%s\n' \
        "$PGPORT" "$other" "$PGUSER" > .env
    # Not DATABASE_URL in the environment: since issue 11 a variable set in
    # the environment wins over every dotenv file, so .env would name the
    # same database (as the app loading it would see).
    printf 'DATABASE_URL=%s\n' "$url" > .env.local
    run -1 --separate-stderr safe-run --rehearse sh -c \
        'psql -X -q "$DATABASE_URL" -c "DROP TABLE audit" && psql -X -q -d "$DB_DATABASE" -c "DELETE FROM t"'
    [[ $output == *"/$app: DATA WOULD BE LOST"*"LOST  table audit dropped, with 5 rows"* ]]
    [[ $output == *"/$other: DATA WOULD BE LOST"*"LOST  2 rows of t deleted (2 -> 0)"* ]]
    untouched
    [ "$(pg_sql "SELECT count(*) FROM t" "$other")" = 2 ]
}
