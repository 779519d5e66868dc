#!/usr/bin/env bats
# The clone tier (issue 14, section 2) on a real PostgreSQL: a snapshot that
# is a copy of the database inside its server, not connectable, found by
# its name; the dump instead when the database has other sessions; restore
# by a new clone swapped in; --list, --verify, --export, keep_clones,
# --prune; a killed clone never used and cleaned up by the next run.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
}

teardown_file() {
    pg_stop
}

setup() {
    proj=$BATS_TEST_TMPDIR/proj
    mkdir -p "$proj"
    cd "$proj"
    db=cl_$BATS_TEST_NUMBER
    pg_sql "DROP DATABASE IF EXISTS $db" postgres >/dev/null
    pg_sql "CREATE DATABASE $db" postgres >/dev/null
    pg_sql "CREATE TABLE items (id serial PRIMARY KEY, name text);
        INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 300) g;
        CREATE TABLE tags (t text); INSERT INTO tags VALUES ('a'), ('b');" "$db" >/dev/null
    export DATABASE_URL=${PG_URL%/*}/$db
    printf '[db-snap]\ntier = clone\n' >.dbguard.conf
}

teardown() {
    [ -z "${holder:-}" ] || { kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true; }
    [ -z "${snap_pid:-}" ] || { kill -KILL "$snap_pid" 2>/dev/null || true; wait "$snap_pid" 2>/dev/null || true; }
    return 0
}

clones() { pg_sql "SELECT datname FROM pg_database WHERE datname LIKE 'dbguard\\_clone\\_%' ORDER BY 1" postgres; }
clone_of() { sed -n 's/^clone=//p' "$1.meta"; }
# The clones of this test's database (their names end in a hash of it).
my_clones() { clones | grep "_$(printf %s "$db" | sha256sum | cut -c1-12)\$" || true; }

@test "tier = clone: a .pgclone snapshot naming a database that nobody can connect to" {
    run -0 --separate-stderr db-snap -v
    snap=$output
    [[ $snap == "$proj/backups/${db}_"*Z.pgclone ]]
    grep -q '^kind=clone$' "$snap.meta"
    grep -q '^table=items	300$' "$snap.meta"
    grep -q '^fingerprint=postgres1:' "$snap.meta"
    name=$(clone_of "$snap")
    [[ $name == dbguard_clone_* ]]
    [ "$(pg_sql "SELECT datallowconn FROM pg_database WHERE datname = '$name'" postgres)" = f ]
    [ "$(pg_sql "SELECT count(*) FROM pg_database WHERE datname = '$name'" postgres)" = 1 ]
    run -0 --separate-stderr db-snap --list --format=tsv
    [[ ${lines[0]} == *$'\t'kind ]]
    [[ ${lines[1]} == "$snap"*$'\t'clone ]]
    run -0 --separate-stderr db-snap --list --format=human
    [[ ${lines[0]} == *KIND* ]]
    [[ ${lines[1]} == *" clone "* ]]
    # Unchanged: the clone is reused.
    run -0 --separate-stderr db-snap -v
    [ "$output" = "$snap" ]
    [[ $stderr == *"unchanged since $snap"* ]]
    # -o always writes a portable dump, never a clone.
    run -0 --separate-stderr db-snap -o "$BATS_TEST_TMPDIR/out.sql.zst"
    zstd -t -q "$BATS_TEST_TMPDIR/out.sql.zst"
    run -1 grep -q '^kind=clone' "$BATS_TEST_TMPDIR/out.sql.zst.meta"
}

@test "another session on the database: a dump instead, and -v says why" {
    PGAPPNAME=the-app-server "$PG_BIN/psql" -X -q -h "$PGHOST" -p "$PGPORT" -d "$db" \
        -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
    holder=$!
    wait_until 10 sleeping_on "$db" the-app-server
    run -0 --separate-stderr db-snap -v
    snap=$output
    [[ $snap == *.sql.zst ]]
    [[ $stderr == *"a dump instead of a clone: the database has 1 other session (the-app-server)"* ]]
    run -1 grep -q '^kind=clone' "$snap.meta"
    [ -z "$(my_clones)" ]
}

@test "db-restore puts a clone back by a new clone swapped in; the clone stays for the next undo" {
    run -0 --separate-stderr db-snap
    snap=$output
    name=$(clone_of "$snap")
    pg_sql "DELETE FROM items WHERE id > 10; DROP TABLE tags" "$db" >/dev/null
    run -0 --separate-stderr db-restore -v --confirm="$db" --no-safety-snap "$snap"
    [[ $stderr == *"copied the clone '$name'"* ]]
    [ "$(pg_sql 'SELECT count(*) FROM items' "$db")" = 300 ]
    [ "$(pg_sql 'SELECT count(*) FROM tags' "$db")" = 2 ]
    [ "$(pg_sql "SELECT count(*) FROM pg_database WHERE datname = '$name'" postgres)" = 1 ]
    # And again, from the same clone.
    pg_sql "TRUNCATE items" "$db" >/dev/null
    run -0 --separate-stderr db-restore --confirm="$db" --no-safety-snap "$snap"
    [ "$(pg_sql 'SELECT count(*) FROM items' "$db")" = 300 ]
}

@test "--verify checks the clone's row counts; a clone gone or changed fails with 5" {
    run -0 --separate-stderr db-snap
    snap=$output
    name=$(clone_of "$snap")
    run -0 --separate-stderr db-snap -v --verify "$snap"
    [ "$output" = "$snap: OK" ]
    pg_sql "ALTER DATABASE \"$name\" ALLOW_CONNECTIONS true" postgres
    pg_sql "DELETE FROM items WHERE id = 1" "$name" >/dev/null
    pg_sql "ALTER DATABASE \"$name\" ALLOW_CONNECTIONS false" postgres
    run -5 --separate-stderr db-snap --verify "$snap"
    [[ $stderr == *"the clone '$name' has 299 rows in 'items', the metadata says 300"* ]]
    pg_sql "DROP DATABASE \"$name\"" postgres
    run -5 --separate-stderr db-snap --verify "$snap"
    [[ $stderr == *"the clone '$name' is gone from the server"* ]]
}

@test "--export writes the clone's portable dump, which psql loads" {
    run -0 --separate-stderr db-snap
    snap=$output
    run -0 --separate-stderr db-snap --export "$snap" -o "$BATS_TEST_TMPDIR/x.sql.zst"
    grep -q "^database=$db\$" "$BATS_TEST_TMPDIR/x.sql.zst.meta"
    grep -q '^table=items	300$' "$BATS_TEST_TMPDIR/x.sql.zst.meta"
    pg_sql "CREATE DATABASE ${db}_copy" postgres
    zstd -dc "$BATS_TEST_TMPDIR/x.sql.zst" | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" \
        -p "$PGPORT" -d "${db}_copy" >/dev/null
    [ "$(pg_sql 'SELECT count(*) FROM items' "${db}_copy")" = 300 ]
    pg_sql "DROP DATABASE ${db}_copy" postgres
    # The clone is not connectable again.
    [ "$(pg_sql "SELECT datallowconn FROM pg_database WHERE datname = '$(clone_of "$snap")'" postgres)" = f ]
    run -2 --separate-stderr db-snap --export "$snap"
    run -0 --separate-stderr db-snap --tier=dump --always
    run -2 --separate-stderr db-snap --export "$output" -o -
    [[ $stderr == *"is a dump, portable as it is"* ]]
}

@test "keep_clones: the oldest clones go when a new one comes, and by --prune" {
    printf '[db-snap]\ntier = clone\nkeep_clones = 2\n' >.dbguard.conf
    local -a s=()
    for i in 1 2 3 4; do
        pg_sql "INSERT INTO tags VALUES ('x$i')" "$db" >/dev/null
        run -0 --separate-stderr db-snap
        s+=("$output")
    done
    s1=${s[0]} s2=${s[1]} s3=${s[2]} s4=${s[3]}
    [ ! -e "$s1" ]
    [ ! -e "$s2" ]
    [ -e "$s3" ]
    [ -e "$s4" ]
    [ "$(my_clones | wc -l)" -eq 2 ]
    [ "$(pg_sql "SELECT count(*) FROM pg_database WHERE datname IN ('$(clone_of "$s3")', '$(clone_of "$s4")')" postgres)" = 2 ]
    printf '[db-snap]\ntier = clone\nkeep_clones = 1\n' >.dbguard.conf
    run -0 --separate-stderr db-snap --prune
    [ "$output" = "$s3" ]
    [ "$(pg_sql "SELECT count(*) FROM pg_database WHERE datname = '$(clone_of "$s3")'" postgres)" = 0 ]
    [ -e "$s4" ]
}

@test "a clone killed at any moment is never used, and the next run cleans it up" {
    for delay in 0 0.01 0.03 0.06 0.1 0.2; do
        db-snap --always >/dev/null 2>&1 &
        snap_pid=$!
        sleep "$delay"
        kill -KILL "$snap_pid" 2>/dev/null || true
        wait "$snap_pid" 2>/dev/null || true
        snap_pid=
        # The next run: no debris left, and every clone named by a good
        # snapshot is there; none other of this database.
        run -0 --separate-stderr db-snap --always
        run -0 --separate-stderr db-snap --list --format=tsv
        good=$(printf '%s\n' "${lines[@]:1}" | awk -F'\t' '$11 == "good" { print $1 }')
        bad=$(printf '%s\n' "${lines[@]:1}" | awk -F'\t' '$11 != "good"')
        [ -z "$bad" ]
        [ -z "$(find backups -name '.*.tmp.*')" ]
        want=$(for s in $good; do clone_of "$s"; done | sort)
        have=$(my_clones | sort)
        [ "$want" = "$have" ]
    done
}

@test "db-restore of a clone killed at any moment: the database is either as it was or restored" {
    run -0 --separate-stderr db-snap
    snap=$output
    name=$(clone_of "$snap")
    for delay in 0 0.02 0.05 0.1 0.2 0.4; do
        pg_sql "DELETE FROM items WHERE id > 100" "$db" >/dev/null
        db-restore --confirm="$db" --no-safety-snap "$snap" >/dev/null 2>&1 &
        snap_pid=$!
        sleep "$delay"
        kill -KILL "$snap_pid" 2>/dev/null || true
        wait "$snap_pid" 2>/dev/null || true
        snap_pid=
        # Whatever the moment: the old state (100 rows) or the restored one
        # (300), never another; the next restore cleans up and restores.
        for _ in $(seq 100); do
            [ "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbguard'
                AND pid <> pg_backend_pid()" postgres)" = 0 ] && break
            sleep 0.05
        done
        n=$(pg_sql 'SELECT count(*) FROM items' "$db")
        [ "$n" = 100 ] || [ "$n" = 300 ]
        run -0 --separate-stderr db-restore --confirm="$db" --no-safety-snap "$snap"
        [ "$(pg_sql 'SELECT count(*) FROM items' "$db")" = 300 ]
        [ "$(pg_sql "SELECT count(*) FROM pg_database WHERE datname LIKE '${db}\\_\\_dbguard%'" postgres)" = 0 ]
        [ "$(pg_sql "SELECT count(*) FROM pg_database WHERE datname = '$name'" postgres)" = 1 ]
    done
}

@test "unchanged, but the clone was dropped behind dbguard's back: a new snapshot" {
    run -0 --separate-stderr db-snap
    snap=$output
    name=$(clone_of "$snap")
    run -0 --separate-stderr db-snap -v
    [ "$output" = "$snap" ]
    pg_sql "DROP DATABASE \"$name\"" postgres
    # (The DROP is a transaction, so the fingerprint moves too; db-snap
    # also checks that a clone it would hand out still exists.)
    run -0 --separate-stderr db-snap -v
    snap2=$output
    [ "$snap2" != "$snap" ]
    [ "$(pg_sql "SELECT count(*) FROM pg_database WHERE datname = '$(clone_of "$snap2")'" postgres)" = 1 ]
    run -5 --separate-stderr db-snap --verify "$snap"
}
