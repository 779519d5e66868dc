#!/usr/bin/env bash
# make demo: a throwaway project with a SQLite database, no server needed,
# showing what dbguard does.  Everything happens in ./demo (ignored by git).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$top/bin:$PATH"
demo="$top/demo"
rm -rf "$demo"
mkdir -p "$demo/database"
cd "$demo"

say() {
    if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m$ %s\033[0m\n' "$*" >&2
    else printf '\n$ %s\n' "$*" >&2; fi
}
# Show a command as it would be typed: words with blanks or quotes quoted.
shown() {
    local w out=
    for w in "$@"; do
        case $w in
            *[[:space:]\'\"\;\$]*) out+=" '${w//\'/\'\\\'\'}'" ;;
            *) out+=" $w" ;;
        esac
    done
    printf '%s' "${out# }"
}
run() { say "$(shown "$@")"; "$@" || echo "(exit status $?)" >&2; }

sqlite3 database/app.sqlite <<'SQL'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total_cents INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO users (email) SELECT 'user' || i || '@example.com' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO orders (user_id, total_cents) SELECT i % 500 + 1, i * 37 % 10000 FROM n;
SQL
cat > .env <<'ENV'
APP_NAME=demo
APP_ENV=local
DB_CONNECTION=sqlite
DB_DATABASE=database/app.sqlite
ENV
cat > .env.production.example <<'ENV'
APP_ENV=production
DB_CONNECTION=pgsql
DB_HOST=db.example.com
DB_DATABASE=shop
DB_USERNAME=shop
DB_PASSWORD=never-printed
ENV

echo "demo project in $demo: a Laravel-style .env pointing at a SQLite database" >&2
run db-envcheck
run db-envcheck --ping
run db-envcheck --format=env
say "db-envcheck   # with a production .env"
( cp .env.production.example .env && db-envcheck ) || echo "(exit status $?: refused)" >&2
cat > .env <<'ENV'
APP_NAME=demo
APP_ENV=local
DB_CONNECTION=sqlite
DB_DATABASE=database/app.sqlite
ENV

count() { sqlite3 database/app.sqlite "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM orders) || ' orders'"; }

echo >&2
echo "now a command that wrecks the data, run under safe-run:" >&2
run count
run safe-run sqlite3 database/app.sqlite "DELETE FROM orders; DROP TABLE users"
say "sqlite3 database/app.sqlite 'SELECT count(*) FROM orders'"
sqlite3 database/app.sqlite 'SELECT count(*) FROM orders'
run safe-run --journal -n 1
run db-snap --list

echo >&2
echo "safe-run --undo puts the database back as it was before that run (db-restore does it, after a safety snapshot of the wrecked state):" >&2
run safe-run --undo --confirm=app.sqlite
run count

echo >&2
echo "with -R, safe-run rolls back by itself when the command fails:" >&2
run safe-run -R sh -c 'sqlite3 database/app.sqlite "DELETE FROM users"; exit 1'
run count
echo >&2
echo "the demo project stays in $demo; 'make demo' starts it afresh" >&2
