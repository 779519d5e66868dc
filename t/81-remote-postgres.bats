#!/usr/bin/env bats
# The remote store with a real PostgreSQL: a snapshot pushed to WebDAV, SFTP
# and a local-path remote (real rclone on both ends) comes back whole into a
# database that no longer exists, into another one, through --check, and
# encrypted with age.
bats_require_minimum_version 1.5.0
load helpers/common
load helpers/rclone

setup_file() {
    pg_start
    rclone_start_webdav
    rclone_start_sftp
    rclone_local_remote
}

teardown_file() {
    rclone_stop_all
    pg_stop
}

setup() {
    app=app$BATS_TEST_NUMBER
    pg_sql "CREATE DATABASE $app" postgres
    pg_sql "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, note text);
        INSERT INTO users (name, note) SELECT 'user' || g, E'tab\there ''q''' FROM generate_series(1, 300) g;
        CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id), total numeric);
        INSERT INTO orders VALUES (1, 1, 9.5), (2, 3, 20);
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
        CREATE SEQUENCE tickets; SELECT setval('tickets', 42);" "$app" >/dev/null
    proj=$BATS_TEST_TMPDIR/proj
    store=$proj/backups
    mkdir -p "$proj"
    cd "$proj"
    url="postgres://$PGUSER:$(_dbg_urlencode "$PGPASSWORD")@127.0.0.1:$PGPORT/$app"
    printf 'DATABASE_URL=%s\n' "$url" > .env
    dir=pg$BATS_TEST_NUMBER
}

pgdump() {
    "$PG_BIN/pg_dump" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "${1:-$app}" | grep -v '^\\\(un\)\?restrict '
}
snap() { run -0 --separate-stderr db-snap "$@"; snapshot=$output; [ -f "$snapshot" ]; }

@test "postgres: push, list, pull and restore round trips on WebDAV, SFTP and a local path" {
    before=$(pgdump)
    snap --label seed
    name=${snapshot##*/}
    for remote in "dav:$dir" "sftp:$dir" "loc:$RC_LOCAL_DIR/$dir"; do
        export DBGUARD_REMOTE=$remote
        run -0 --separate-stderr db-snap --push
        [[ $stderr == *"pushed '$name' to '$remote'"* ]]
        run -0 --separate-stderr db-snap --list --remote --format=tsv
        [[ ${lines[1]} == "$remote/$name	$app	postgres	"*"	seed	"*"	good	"*"	local+remote" ]]
        run -0 --separate-stderr db-snap --verify --remote
        [ "$output" = "$remote/$name: OK" ]
        # The laptop is gone: no local store, no database.
        rm -rf "$store"
        pg_sql "DROP DATABASE $app" postgres
        run -0 --separate-stderr db-restore --remote --confirm="$app"
        [[ $stderr == *"pulled '$name' from '$remote'"* ]]
        [[ $stderr == *"restored '$app' from '$store/$name': 2 tables, 302 rows, every count as recorded"* ]]
        [ "$(pgdump)" = "$before" ]
        # A second database from the same remote snapshot.
        run -0 --separate-stderr db-restore --remote --into="${app}_copy" --confirm="${app}_copy" "$name"
        [ "$(pgdump "${app}_copy")" = "$before" ]
        pg_sql "DROP DATABASE ${app}_copy" postgres
        run -0 --separate-stderr db-snap --list --remote --format=tsv
        [[ ${lines[1]} == *"	local+remote" ]]
    done
}

@test "postgres: db-restore --check --remote loads into a throwaway database" {
    snap
    DBGUARD_REMOTE=sftp:$dir run -0 --separate-stderr db-snap --push
    rm -rf "$store"
    DBGUARD_REMOTE=sftp:$dir run -0 --separate-stderr db-restore --check --remote
    [[ $stderr == *"is good: it loads, and its 2 tables hold the 302 rows recorded"* ]]
    [ "$(pg_sql "SELECT count(*) FROM pg_database WHERE datname LIKE '${app}\\_%'" postgres)" = 0 ]
}

@test "postgres: encrypted with age on the remote, restored with the identity, and by hand" {
    age-keygen -o "$HOME/team.key" 2>/dev/null
    printf '[store]\nencrypt_to = %s\nidentity = %s\nremote = dav:%s\n' \
        "$(age-keygen -y "$HOME/team.key")" "$HOME/team.key" "$dir" > .dbguard.conf
    before=$(pgdump)
    snap
    name=${snapshot##*/}
    run -0 --separate-stderr db-snap --push
    # Restorable with standard tools: age -d -i KEY S | zstd -dc | psql DB.
    pg_sql "CREATE DATABASE ${app}_hand" postgres
    age -d -i "$HOME/team.key" "$RC_DAV_DIR/$dir/$name.age" | zstd -dc |
        "$PG_BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "${app}_hand" >/dev/null 2>&1
    [ "$(pg_sql "SELECT count(*) FROM users" "${app}_hand")" = 300 ]
    rm -rf "$store"
    pg_sql "DROP DATABASE $app" postgres
    run -0 --separate-stderr db-restore --remote --confirm="$app"
    [[ $stderr == *"(decrypted)"* ]]
    [ "$(pgdump)" = "$before" ]
    ! grep -rqF "$PGPASSWORD" "$RC_DAV_DIR/$dir" "$store"
}

@test "postgres: the README's CI recipe: the seed found by its label restores into the CI database" {
    snap --label seed
    seed=${snapshot##*/}
    snap --label other
    export DBGUARD_REMOTE=dav:$dir
    run -0 --separate-stderr db-snap --push --all
    before=$(pgdump)
    # The CI job: another database name, an empty store.
    pg_sql "CREATE DATABASE ${app}_test" postgres
    ci=$BATS_TEST_TMPDIR/ci
    mkdir "$ci"
    cd "$ci"
    printf 'DATABASE_URL=%s\n' "${url%/*}/${app}_test" > .env
    found=$(db-snap --list --remote --all --format=tsv |
        awk -F '\t' '$5 == "seed" && $11 == "good" { print $1; exit }')
    [ "$found" = "dav:$dir/$seed" ]
    # The seed names the team's database, not this one: --into says where it goes.
    run -0 --separate-stderr db-restore --remote --no-safety-snap --into="${app}_test" --confirm="${app}_test" "$found"
    [[ $stderr == *"restored '${app}_test' from '$ci/backups/$seed'"* ]]
    [ "$(pgdump "${app}_test")" = "$before" ]
    run -0 --separate-stderr safe-run true
    DBGUARD_REMOTE=dav:$dir-ci run -0 --separate-stderr db-snap --label=ci-0123456789ab
    DBGUARD_REMOTE=dav:$dir-ci run -0 --separate-stderr db-snap --push
    [[ $stderr == *"_ci-0123456789ab.sql.zst' to 'dav:$dir-ci'"* ]]
}
