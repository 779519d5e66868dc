#!/usr/bin/env bats
# safe-run --rehearse on SQLite files (no server): migrations that lose data
# and ones that do not, the framework files that pin a database and are
# refused, the JSON report, the journal, the options; the original file is
# byte for byte unchanged after every rehearsal, and no copy is left.
bats_require_minimum_version 1.5.0
load helpers/common
load helpers/undo-hint

FAKES=$BATS_TEST_DIRNAME/fixtures/rehearse
FIXTURES=$BATS_TEST_DIRNAME/fixtures/projects

setup() {
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj/database/migrations" "$BATS_TEST_TMPDIR/bin"
    cd "$proj"
    sqlite3 database/app.sqlite "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, bio TEXT);
        INSERT INTO users (name, email) VALUES ('ann', 'ann@example.org'), ('bob', 'bob@example.org'), ('cy', NULL);
        CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, body TEXT);
        INSERT INTO posts VALUES (1, 1, 'hello'), (2, 1, 'again'), (3, 2, 'hi');
        CREATE TABLE audit (id INTEGER PRIMARY KEY, msg TEXT);
        INSERT INTO audit VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e');"
    touch artisan
    printf 'APP_ENV=local\nDB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
    cp "$FAKES/fake-php" "$BATS_TEST_TMPDIR/bin/php"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH
    before=$(checksum)
}

checksum() { md5sum < database/app.sqlite; }
content() { sqlite3 database/app.sqlite .dump | md5sum; }
copies() { find "$proj" -name '*__dbguard_rehearse_*'; }
untouched() {
    [ "$(checksum)" = "$before" ]
    [ -z "$(copies)" ]
}
migration() { printf '%s\n' "$1" > database/migrations/2024_01_01_000000_change.sql; }

@test "drop a table; drop a column with values; drop an all-NULL column; delete rows" {
    migration 'DROP TABLE audit;'
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"sqlite database/app.sqlite: DATA WOULD BE LOST"* ]]
    [[ $output == *"LOST  table audit dropped, with 5 rows"* ]]
    untouched
    migration 'ALTER TABLE users DROP COLUMN email;'
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"LOST  column users.email dropped, with 2 values not NULL"* ]]
    untouched
    migration 'ALTER TABLE users DROP COLUMN bio;'
    run -0 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"ok    column users.bio dropped; it held only NULL"* ]]
    untouched
    migration 'DELETE FROM audit WHERE id > 1;'
    run -1 --separate-stderr safe-run --rehearse sh -c 'sqlite3 "$DB_DATABASE" < database/migrations/2024_01_01_000000_change.sql'
    [[ $output == *"LOST  4 rows of audit deleted (5 -> 1)"* ]]
    untouched
}

@test "ON DELETE CASCADE; a rebuilt table with a narrower type; rename and NOT NULL default: nothing lost" {
    migration 'PRAGMA foreign_keys = ON; DELETE FROM users WHERE id = 1;'
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"LOST  2 rows of posts deleted by ON DELETE CASCADE from users (3 -> 1)"* ]]
    untouched
    # SQLite changes a type by rebuilding the table (what Laravel and Django do)
    migration "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email INTEGER, bio TEXT);
        INSERT INTO users_new SELECT id, name, CAST(substr(email, 1, 3) AS INTEGER), bio FROM users;
        DROP TABLE users; ALTER TABLE users_new RENAME TO users;"
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"LOST  column users.email changed type TEXT -> INTEGER: 2 values changed, 0 truncated"* ]]
    untouched
    migration 'ALTER TABLE audit RENAME TO audit_log; ALTER TABLE users RENAME COLUMN email TO mail;
        ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;'
    run -0 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"ok    table audit renamed to audit_log"* ]]
    [[ $output == *"ok    column users.email renamed to mail"* ]]
    [[ $output == *"new   column users.active INTEGER"* ]]
    [[ $output == *"verdict: nothing lost"* ]]
    untouched
}

@test "--format=json: the schema of safe-run(1); the journal records the verdict" {
    migration 'ALTER TABLE users DROP COLUMN email; ALTER TABLE users ADD COLUMN age INTEGER;'
    run -1 --separate-stderr safe-run --rehearse --format=json php artisan migrate
    printf '%s' "$output" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert set(r) == {"rehearsal", "command", "status", "exit", "duration", "output", "verdict", "databases"}, r
assert r["rehearsal"] == 1 and r["command"] == "php artisan migrate" and r["exit"] == 0 and r["output"] is None
d = r["databases"][0]
keys = {"target", "engine", "database", "copy", "original_unchanged", "loss", "tables_dropped", "rows_deleted",
        "columns_dropped", "type_changes", "constraints_added", "tables_renamed", "columns_renamed",
        "tables_added", "columns_added", "schema_diff"}
assert set(d) == keys, set(d) ^ keys
assert d["engine"] == "sqlite" and d["database"] == "database/app.sqlite" and "__dbguard_rehearse_" in d["copy"]
assert d["columns_dropped"] == [{"table": "users", "column": "email", "non_null": 2, "loss": True}], d
assert d["columns_added"] == [{"table": "users", "column": "age", "type": "INTEGER", "loss": False}], d
assert d["schema_diff"] == ["- column users.email", "+ column users.age INTEGER"], d'
    # The command is the journal's 5th field and the status its 9th (the
    # command class and more follow since issue 12).
    [ "$(tail -n 1 backups/journal | cut -f 5,9)" = $'php artisan migrate\trehearsal: data would be lost' ]
    # a command failing on the copy: its output is in the report
    run -1 --separate-stderr safe-run --rehearse --format=json sh -c 'echo "migration 7 failed" >&2; exit 3'
    printf '%s' "$output" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["exit"] == 3 and r["status"] == "exit 3" and r["output"] == "migration 7 failed\n", r
assert r["verdict"] == "the command failed on the copy (exit 3)", r'
    untouched
}

@test "a command writing to the original file is caught (125), with the one command that undoes it" {
    content_before=$(content)
    run -125 --separate-stderr safe-run --rehearse sqlite3 database/app.sqlite 'DELETE FROM audit'
    [[ $output == *"THE ORIGINAL CHANGED"* ]]
    [[ $stderr == *"the command did not follow the redirect: it changed sqlite database/app.sqlite"* ]]
    [ -z "$(copies)" ]
    [ "$(content)" != "$content_before" ]
    # The hint printed is the one command that undoes it: follow it.  A
    # restore is the same content, not the same bytes.
    follow_undo_hint app.sqlite
    [ "$(content)" = "$content_before" ]
}

@test "a Laravel config cache pins the database: refused (125) naming its file and line" {
    cp -a "$FIXTURES/laravel-cached/bootstrap" .
    sed -i "s/'env' => 'production'/'env' => 'local'/; s/'default' => 'mysql'/'default' => 'sqlite'/;
        s|/var/www/html/database/database.sqlite|$proj/database/app.sqlite|" bootstrap/cache/config.php
    migration 'DROP TABLE audit;'
    run -125 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $stderr == *"bootstrap/cache/config.php:44 connections.sqlite.database pins it"* ]]
    [[ $stderr == *"refusing to run"* || $stderr == *"cannot rehearse"* ]]
    untouched
    [ "$(tail -n 1 backups/journal | cut -f 9)" = "rehearsal: could not be made" ]
}

@test "a Django settings.py with a literal NAME: refused (125) naming its file and line" {
    cp -a "$FIXTURES/django-sqlite/." .
    rm .env
    cp database/app.sqlite db.sqlite3
    run -125 --separate-stderr safe-run --rehearse python3 manage.py migrate
    [[ $stderr == *"mysite/settings.py:57 NAME pins it"* ]]
    [ -z "$(copies)" ]
}

@test "a Rails database.yml without ERB names the file itself: refused (125) naming its file and line" {
    rm .env
    mkdir -p config
    printf 'development:\n  adapter: sqlite3\n  database: database/app.sqlite\n' > config/database.yml
    run -125 --separate-stderr safe-run --rehearse sqlite3 database/app.sqlite 'DROP TABLE audit'
    [[ $stderr == *"config/database.yml:3 database pins it"* ]]
    untouched
    # with ERB reading the environment it can be redirected
    printf 'development:\n  adapter: sqlite3\n  database: <%%= ENV.fetch("DB_FILE", "database/app.sqlite") %%>\n' \
        > config/database.yml
    run -1 --separate-stderr safe-run --rehearse sh -c 'sqlite3 "${DB_FILE:-database/app.sqlite}" "DROP TABLE audit"'
    [[ $output == *"LOST  table audit dropped, with 5 rows"* ]]
    untouched
}

@test "options: --then-run and --accept-loss need --rehearse; no --dry-run or tsv; production still refused" {
    run -2 --separate-stderr safe-run --then-run true
    [[ $stderr == *"--then-run goes with --rehearse"* ]]
    run -2 --separate-stderr safe-run --rehearse --accept-loss true
    [[ $stderr == *"--accept-loss goes with --rehearse --then-run"* ]]
    run -2 --separate-stderr safe-run --rehearse --dry-run true
    run -2 --separate-stderr safe-run --rehearse --format=tsv true
    run -0 --separate-stderr safe-run --help
    [[ $output == *"--rehearse"*"--then-run"*"--accept-loss"* ]]
    printf 'APP_ENV=production\nDB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
    run -125 --separate-stderr safe-run --rehearse true
    [[ $stderr == *"refusing to run"*"production"* ]]
    untouched
    rm .env
    run -125 --separate-stderr safe-run --rehearse true
    [[ $stderr == *"cannot rehearse 'true': no database found to copy"* ]]
}

@test "--then-run on SQLite: the real file changes only after a rehearsal without loss" {
    migration 'ALTER TABLE users ADD COLUMN age INTEGER;'
    run -0 --separate-stderr safe-run --rehearse --then-run php artisan migrate
    [[ $output == *"verdict: nothing lost"*"Migrating: 2024_01_01_000000_change.sql"* ]]
    [ "$(sqlite3 database/app.sqlite "SELECT count(*) FROM pragma_table_info('users') WHERE name = 'age'")" = 1 ]
    before=$(checksum)
    migration 'DROP TABLE posts;'
    run -1 --separate-stderr safe-run --rehearse --then-run php artisan migrate
    untouched
    run -0 --separate-stderr safe-run --rehearse --then-run --accept-loss php artisan migrate
    [ "$(sqlite3 database/app.sqlite "SELECT count(*) FROM sqlite_master WHERE name = 'posts'")" = 0 ]
}

@test "the bash completion knows --rehearse, --then-run and --accept-loss, and a rehearsal's formats" {
    source "$BATS_TEST_DIRNAME/../completions/safe-run"
    COMP_WORDS=(safe-run --reh); COMP_CWORD=1
    _safe_run || :   # its last test may be false
    [ "${COMPREPLY[*]}" = --rehearse ]
    COMP_WORDS=(safe-run --rehearse --); COMP_CWORD=2
    _safe_run || :   # its last test may be false
    [[ " ${COMPREPLY[*]} " == *" --then-run --accept-loss "* ]]
    COMP_WORDS=(safe-run --rehearse --format=); COMP_CWORD=2
    _safe_run || :   # its last test may be false
    [ "${COMPREPLY[*]}" = "human json" ]
}

@test "a rehearsal is no undo point: --undo still goes back before the last real run" {
    sqlite3 database/app.sqlite 'DELETE FROM audit WHERE id > 2'
    run -0 --separate-stderr safe-run sqlite3 database/app.sqlite 'DELETE FROM audit'
    migration 'DROP TABLE posts;'
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    run -0 --separate-stderr safe-run --journal --format=tsv
    # Oldest first: the real run is undo point 1, the rehearsal has no number.
    [[ ${lines[1]} == 1$'\t'*"DELETE FROM audit"* ]]
    [[ ${lines[2]} == -$'\t'*"rehearsal: data would be lost"* ]]
    run -0 --separate-stderr safe-run --undo --confirm=app.sqlite
    [ "$(sqlite3 database/app.sqlite 'SELECT count(*) FROM audit')" = 2 ]
}
