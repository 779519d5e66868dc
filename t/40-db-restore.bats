#!/usr/bin/env bats
# db-restore on SQLite, and the contract every engine shares: verification,
# confirmation, the safety snapshot, the marker, --check, --into, streams,
# and a restore killed at several points.  Snapshots are made by db-snap.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj/database"
    cd "$proj"
    db=$proj/database/app.sqlite
    sqlite_fixture "$db"
    printf 'APP_ENV=local\nDB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
}

# The whole database as SQL, without the dbguard marker (compared apart).
dump() { sqlite3 "${1:-$db}" .dump | grep -v dbguard_marker; }
sum() { sha256sum "${1:-$db}" | cut -d' ' -f1; }
snap() { run -0 --separate-stderr db-snap "$@"; snapshot=$output; [ -f "$snapshot" ]; }
# Wrecks every way the issue lists: rows updated and deleted, a table
# added, a table dropped, a column added.
wreck() {
    sqlite3 "${1:-$db}" "UPDATE users SET name = 'zed' WHERE id = 2; DELETE FROM users WHERE id = 1;
        CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (1);
        DROP VIEW big_orders; DROP TABLE orders; ALTER TABLE users ADD COLUMN age INTEGER;"
}
pre_restore_snapshots() { ls backups | grep -c '_pre-restore\.sqlite\.zst$' || true; }

@test "a restore gives back exactly the snapshot after rows, tables and columns changed" {
    before=$(dump)
    snap
    wreck
    [ "$(dump)" != "$before" ]
    run -0 --separate-stderr db-restore --confirm=app.sqlite
    [ -z "$output" ]
    [[ $stderr == *"restored 'app.sqlite' from '$snapshot': 2 tables, 5 rows, every count as recorded"* ]]
    [ "$(dump)" = "$before" ]
    run -0 sqlite3 "$db" 'PRAGMA integrity_check'
    [ "$output" = ok ]
    # Nothing of the restore is left beside the database.
    run -0 ls -A database
    [ "$output" = app.sqlite ]
}

@test "the safety snapshot exists, is printed, and restores the pre-restore state" {
    snap
    wreck
    wrecked=$(dump)
    run -0 --separate-stderr db-restore --confirm=app.sqlite "$snapshot"
    [ "$(pre_restore_snapshots)" -eq 1 ]
    safety=$(ls "$PWD"/backups/*_pre-restore.sqlite.zst)
    [[ $stderr == *"safety snapshot of 'app.sqlite' as it is now: $safety"* ]]
    [[ $stderr == *"to undo it: db-restore '$safety'"* ]]
    grep -q "^reason=before restoring ${snapshot##*/}\$" "$safety.meta"
    grep -q '^label=pre-restore$' "$safety.meta"
    run -0 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap "$safety"
    [ "$(dump)" = "$wrecked" ]
    [ "$(pre_restore_snapshots)" -eq 1 ]
}

@test "a corrupted snapshot gives 5 and leaves the target untouched" {
    snap
    wreck
    want=$(sum)
    cp "$snapshot" "$BATS_TEST_TMPDIR/good"
    # One flipped byte in the middle of the compressed stream.
    size=$(stat -c %s "$snapshot")
    printf '\x5a' | dd of="$snapshot" bs=1 seek=$((size / 2)) conv=notrunc status=none
    run -5 --separate-stderr db-restore --confirm=app.sqlite "$snapshot"
    [[ $stderr == *"failed verification"* ]]
    [[ $stderr == *"nothing was changed"* ]]
    [ "$(sum)" = "$want" ]
    [ "$(pre_restore_snapshots)" -eq 0 ]
    # Truncated.
    head -c $((size - 10)) "$BATS_TEST_TMPDIR/good" > "$snapshot"
    run -5 --separate-stderr db-restore --confirm=app.sqlite "$snapshot"
    [ "$(sum)" = "$want" ]
    # Its metadata gone: not a snapshot.
    cp "$BATS_TEST_TMPDIR/good" "$snapshot"
    rm "$snapshot.meta"
    run -5 --separate-stderr db-restore --confirm=app.sqlite "$snapshot"
    [ "$(sum)" = "$want" ]
    [ "$(pre_restore_snapshots)" -eq 0 ]
}

@test "no terminal and no --confirm gives 6; a wrong name gives 6; both touch nothing" {
    snap
    wreck
    want=$(sum)
    run -6 --separate-stderr db-restore "$snapshot" </dev/null
    [[ $stderr == *"confirm with --confirm=app.sqlite"* ]]
    run -6 --separate-stderr db-restore --confirm=app "$snapshot" </dev/null
    [[ $stderr == *"does not name the database 'app.sqlite'"* ]]
    DBGUARD_CONFIRM=yes run -6 --separate-stderr db-restore "$snapshot" </dev/null
    [ "$(sum)" = "$want" ]
    [ "$(pre_restore_snapshots)" -eq 0 ]
    # The file's full path confirms it too, and so does DBGUARD_CONFIRM.
    run -0 --separate-stderr db-restore --no-safety-snap --confirm="$db" "$snapshot"
    wreck
    DBGUARD_CONFIRM=app.sqlite run -0 --separate-stderr db-restore --no-safety-snap "$snapshot"
}

@test "at a terminal: what is replaced and by what is shown, then the name must be typed" {
    snap --label before --reason 'php artisan migrate'
    wreck
    want=$(sum)
    run -6 script -qec "db-restore '$snapshot'" /dev/null <<< "yes"
    [[ $output == *"target:   sqlite database/app.sqlite"* ]]
    [[ $output == *"class local; "*" in 2 tables; marker none"* ]]
    [[ $output == *"snapshot: $snapshot"* ]]
    [[ $output == *"label before; reason \"php artisan migrate\""* ]]
    [[ $output == *"2 tables, 5 rows"* ]]
    [[ $output == *"type the database name 'app.sqlite' to confirm:"* ]]
    [[ $output == *"not confirmed"* ]]
    [ "$(sum)" = "$want" ]
    [ "$(pre_restore_snapshots)" -eq 0 ]
    run -0 script -qec "db-restore '$snapshot'" /dev/null <<< "app.sqlite"
    [[ $output == *"restored 'app.sqlite'"* ]]
    [ "$(sqlite3 "$db" 'SELECT count(*) FROM users')" = 3 ]
}

@test "the target's marker survives a snapshot that carries another one" {
    run -0 --separate-stderr db-envcheck --mark=production --confirm=app.sqlite
    snap
    run -0 --separate-stderr db-envcheck --mark=clear --confirm=app.sqlite
    wreck
    run -0 --separate-stderr db-restore --confirm=app.sqlite "$snapshot"
    run -0 sqlite3 "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'dbguard_marker'"
    [ "$output" = 0 ]
    run -0 --separate-stderr db-envcheck --ping --format=tsv
    [[ $output == *$'\tlocal\t'* ]]
    # And the other way: a production target stays production.
    run -0 --separate-stderr db-envcheck --mark=clear --confirm=app.sqlite
    snap --label plain
    run -0 --separate-stderr db-envcheck --mark=production --confirm=app.sqlite
    run -1 --separate-stderr db-restore --confirm=app.sqlite "$snapshot"
    [[ $stderr == *"refusing to restore into production database 'app.sqlite'"*"--allow-production"* ]]
    run -0 --separate-stderr db-restore --confirm=app.sqlite --allow-production "$snapshot"
    run -0 sqlite3 "$db" "SELECT class FROM dbguard_marker"
    [ "$output" = production ]
}

@test "--check passes on a good snapshot and fails on one whose counts were altered" {
    snap
    wreck
    want=$(sum)
    run -0 --separate-stderr db-restore --check "$snapshot"
    [[ $stderr == *"is good"* ]]
    run -0 --separate-stderr db-restore --check -q
    [ -z "$stderr" ]
    [ -z "$output" ]
    # The newest snapshot of the target is the one checked.
    sed -i 's/^table=users\t3$/table=users\t4/; s/^rows=5$/rows=6/' "$snapshot.meta"
    run -5 --separate-stderr db-restore --check -q "$snapshot"
    [[ $stderr == *"the metadata was edited or damaged"* ]]
    run -3 --separate-stderr db-restore --check -q
    meta_seal "$snapshot.meta"
    grep -q "^table=users	4$" "$snapshot.meta"
    run -1 --separate-stderr db-restore --check -q
    [[ $stderr == *"row count mismatch in table 'users': the snapshot has 4 rows, the restored database 3"* ]]
    [ "$(sum)" = "$want" ]
    [ "$(pre_restore_snapshots)" -eq 0 ]
    run -0 ls -A backups
    [[ $output != *dbguard-check* ]]
    # A restore of it compares the same counts before touching anything.
    run -1 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap "$snapshot"
    [[ $stderr == *"table 'users'"* ]]
    [ "$(sum)" = "$want" ]
}

@test "no snapshot gives 3; a snapshot of another engine gives 2" {
    run -3 --separate-stderr db-restore --confirm=app.sqlite
    [[ $stderr == *"no good snapshot of 'app.sqlite'"* ]]
    run -3 --separate-stderr db-restore --confirm=app.sqlite backups/nothing.sqlite.zst
    # A PostgreSQL dump with its metadata, as db-snap writes it, aimed at SQLite.
    mkdir -p backups
    printf 'CREATE TABLE t (x int);\n' | zstd -q > backups/app_20260101T000000Z.sql.zst
    {
        echo format=dbguard-snapshot-1; echo engine=postgres; echo server_version=15.0
        echo database=app; echo host=127.0.0.1; echo port=5432; echo created=2026-01-01T00:00:00Z
        echo dbguard_version=0.1.0; echo label=; echo reason=; echo compression=zstd
        echo raw_bytes=24; echo "size=$(stat -c %s backups/app_20260101T000000Z.sql.zst)"
        echo "sha256=$(sha256sum backups/app_20260101T000000Z.sql.zst | cut -d' ' -f1)"
        echo tables=1; echo rows=0; printf 'table=t\t0\n'
    } > backups/app_20260101T000000Z.sql.zst.meta
    meta_seal backups/app_20260101T000000Z.sql.zst.meta
    want=$(sum)
    run -2 --separate-stderr db-restore --confirm=app.sqlite backups/app_20260101T000000Z.sql.zst
    [[ $stderr == *"is a postgres snapshot; it cannot be restored into sqlite"* ]]
    [ "$(sum)" = "$want" ]
}

@test "a snapshot whose metadata names another database gives 2; --into is the way there" {
    snap
    sqlite_fixture "$proj/other.sqlite"
    sqlite3 "$proj/other.sqlite" "DELETE FROM users"
    want=$(sum "$proj/other.sqlite")
    run -2 --separate-stderr db-restore --url="sqlite:///$proj/other.sqlite" --confirm=other.sqlite "$snapshot"
    [[ $stderr == *"'$snapshot' is a snapshot of database '$db', not of "*"use --into="* ]]
    [ "$(sum "$proj/other.sqlite")" = "$want" ]
    # the same snapshot, its metadata edited to name the other file: refused
    # whole (5), the target untouched
    sed -i "s|^database=.*|database=$proj/other.sqlite|" "$snapshot.meta"
    run -5 --separate-stderr db-restore --url="sqlite:///$proj/other.sqlite" --confirm=other.sqlite "$snapshot"
    [[ $stderr == *"the metadata was edited or damaged"* ]]
    [ "$(sum "$proj/other.sqlite")" = "$want" ]
    sed -i "s|^database=.*|database=$db|" "$snapshot.meta"
    run -0 --separate-stderr db-restore --into="$proj/other.sqlite" --confirm=other.sqlite --no-safety-snap "$snapshot"
    [ "$(sqlite3 "$proj/other.sqlite" 'SELECT count(*) FROM users')" = 3 ]
}

@test "half a snapshot a killed run left is not listed, and the next restore removes it" {
    snap
    wreck
    # data without metadata (killed between the two renames), and metadata
    # whose data is gone
    cp "$snapshot" backups/app_20200101T000000Z.sqlite.zst
    cp "$snapshot.meta" backups/app_20200102T000000Z.sqlite.zst.meta
    run -0 --separate-stderr db-restore --list --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [[ $output != *app_2020* ]]
    run -0 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap "$snapshot"
    [ ! -e backups/app_20200101T000000Z.sqlite.zst ]
    [ ! -e backups/app_20200102T000000Z.sqlite.zst.meta ]
    [ -e "$snapshot.meta" ]
}

@test "--list shows the target's snapshots newest first, as db-snap --list does" {
    snap --label one
    first=$snapshot
    sleep 1
    snap --label two
    run -0 --separate-stderr db-restore --list --format=tsv
    [ "${lines[0]%%$'\t'*}" = path ]
    [ "${lines[1]%%$'\t'*}" = "$snapshot" ]
    [ "${lines[2]%%$'\t'*}" = "$first" ]
    diff <(db-restore --list --format=json) <(db-snap --list --format=json)
    diff <(db-restore --list) <(db-snap --list)
    run -0 --separate-stderr db-restore --list --format=human
    [[ ${lines[1]} == *" two "*"${snapshot##*/}"* ]]
}

@test "a stream on stdin: with --meta it is checked, without it only with --unverified" {
    snap
    wreck
    run -2 --separate-stderr db-restore --confirm=app.sqlite - < "$snapshot"
    [[ $stderr == *"--unverified"* ]]
    run -0 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap --meta="$snapshot.meta" - < "$snapshot"
    [ "$(sqlite3 "$db" 'SELECT count(*) FROM users')" = 3 ]
    wreck
    # The metadata of another snapshot: the checksum does not match.
    cp "$snapshot.meta" "$BATS_TEST_TMPDIR/other.meta"
    sed -i 's/^sha256=.*/sha256=0000000000000000000000000000000000000000000000000000000000000000/' "$BATS_TEST_TMPDIR/other.meta"
    meta_seal "$BATS_TEST_TMPDIR/other.meta"
    want=$(sum)
    run -5 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap --meta="$BATS_TEST_TMPDIR/other.meta" - < "$snapshot"
    [[ $stderr == *"does not match its metadata"* ]]
    [ "$(sum)" = "$want" ]
    run -0 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap --unverified - < "$snapshot"
    [[ $stderr == *"UNVERIFIED"* ]]
    [ "$(sqlite3 "$db" 'SELECT count(*) FROM users')" = 3 ]
    # Garbage is not a database: refused, the target untouched.
    wreck
    want=$(sum)
    run -5 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap --unverified - <<< "not a snapshot"
    [ "$(sum)" = "$want" ]
}

@test "--into a new file creates it; a file with tables needs its own name; the target stays" {
    snap
    wreck
    want=$(sum)
    run -0 --separate-stderr db-restore --into="$proj/copy.sqlite" "$snapshot" </dev/null
    zstd -dcq "$snapshot" > "$BATS_TEST_TMPDIR/x.sqlite"
    [ "$(dump "$proj/copy.sqlite")" = "$(dump "$BATS_TEST_TMPDIR/x.sqlite")" ]
    [ "$(sum)" = "$want" ]
    run -6 --separate-stderr db-restore --into="$proj/copy.sqlite" "$snapshot" </dev/null
    [[ $stderr == *"'copy.sqlite' is not empty"* ]]
    run -6 --separate-stderr db-restore --into="$proj/copy.sqlite" --confirm=app.sqlite "$snapshot" </dev/null
    run -0 --separate-stderr db-restore --into="$proj/copy.sqlite" --confirm=copy.sqlite "$snapshot" </dev/null
    [ "$(sum)" = "$want" ]
}

@test "a WAL target: its log is not replayed over the restored file, its mode is kept" {
    sqlite3 "$db" 'PRAGMA journal_mode = WAL' >/dev/null
    before=$(dump)
    snap
    # An application killed with committed changes still in the log.
    mkfifo "$BATS_TEST_TMPDIR/in"
    sqlite3 "$db" < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/app.out" &
    app=$!
    exec 8>"$BATS_TEST_TMPDIR/in"
    echo "PRAGMA wal_autocheckpoint = 0; DELETE FROM orders; INSERT INTO users (name) VALUES ('late'); SELECT 'written';" >&8
    wait_until 10 grep -q written "$BATS_TEST_TMPDIR/app.out"
    kill -KILL "$app"
    wait "$app" || true
    exec 8>&-
    [ -s "$db-wal" ]
    run -0 --separate-stderr db-restore --confirm=app.sqlite
    [ ! -e "$db-wal" ] || [ ! -s "$db-wal" ]
    [ "$(dump)" = "$before" ]
    run -0 sqlite3 "$db" 'PRAGMA journal_mode'
    [ "$output" = wal ]
    # The safety snapshot holds the changes that were only in the log.
    safety=$(ls backups/*_pre-restore.sqlite.zst)
    zstd -dcq "$safety" > "$BATS_TEST_TMPDIR/pre.sqlite"
    [ "$(sqlite3 "$BATS_TEST_TMPDIR/pre.sqlite" "SELECT count(*) FROM orders")" = 0 ]
}

# hold_open: a sqlite3 process holds $db open in a transaction until
# `exec 8>&-`; its pid in $holder.
hold_open() {
    mkfifo "$BATS_TEST_TMPDIR/in"
    sqlite3 "$db" < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/held" &
    holder=$!
    exec 8>"$BATS_TEST_TMPDIR/in"
    # The count is printed once the transaction holds its read lock.
    echo "BEGIN; SELECT count(*) FROM users;" >&8
    wait_until 10 test -s "$BATS_TEST_TMPDIR/held"
}

@test "a target another process holds open is refused, untouched" {
    snap
    wreck
    want=$(sum)
    hold_open
    run -1 --separate-stderr timeout 60 db-restore --confirm=app.sqlite --no-safety-snap "$snapshot"
    [[ $stderr == *"in use by another process"* ]]
    exec 8>&-
    wait "$holder" || true
    [ "$(sum)" = "$want" ]
    run -0 ls -A database
    [ "$output" = app.sqlite ]
}

# Start db-restore reading the snapshot from a FIFO we hold open; the first
# bytes only, so it stalls in the middle of the load.
start_stalled() {
    mkfifo "$BATS_TEST_TMPDIR/stream"
    db-restore --confirm=app.sqlite --no-safety-snap --meta="$snapshot.meta" - \
        < "$BATS_TEST_TMPDIR/stream" 2>"$BATS_TEST_TMPDIR/stderr" &
    pid=$!
    exec 9>"$BATS_TEST_TMPDIR/stream"
    head -c 100 "$snapshot" >&9
    for _ in $(seq 100); do
        compgen -G "database/.app.sqlite.dbguard-restore.$pid" >/dev/null && return 0
        sleep 0.05
    done
    return 1
}

@test "SIGKILL in the middle of the load leaves the old database; the next run cleans up" {
    snap
    wreck
    want=$(dump)
    wsum=$(sum)
    start_stalled
    kill -KILL "$pid"
    wait "$pid" || true
    exec 9>&-
    [ "$(sum)" = "$wsum" ]
    [ "$(dump)" = "$want" ]
    run -0 sqlite3 "$db" 'PRAGMA integrity_check'
    [ "$output" = ok ]
    [ -e "database/.app.sqlite.dbguard-restore.$pid" ]
    run -0 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap "$snapshot"
    [[ $stderr == *"removing '"*".app.sqlite.dbguard-restore.$pid', left by an interrupted db-restore"* ]]
    run -0 ls -A database
    [ "$output" = app.sqlite ]
    [ "$(sqlite3 "$db" 'SELECT count(*) FROM users')" = 3 ]
}

@test "SIGTERM and SIGINT in the middle of the load: cleaned up at once, dies of the signal" {
    snap
    wreck
    wsum=$(sum)
    for sig in TERM INT; do
        rm -f "$BATS_TEST_TMPDIR/stream"
        start_stalled
        kill -"$sig" "$pid"
        status=0
        timeout 20 tail --pid="$pid" -f /dev/null || true
        wait "$pid" || status=$?
        exec 9>&-
        [ "$status" -eq $((128 + $(kill -l "$sig"))) ]
        grep -q "interrupted; 'app.sqlite' was not changed" "$BATS_TEST_TMPDIR/stderr"
        [ "$(sum)" = "$wsum" ]
        run -0 ls -A database
        [ "$output" = app.sqlite ]
    done
}

@test "SIGKILL while waiting to lock the target leaves it intact; the next run cleans up" {
    snap
    wreck
    wsum=$(sum)
    hold_open
    db-restore --confirm=app.sqlite --no-safety-snap "$snapshot" 2>/dev/null &
    pid=$!
    # The new file is complete and checked; db-restore waits for the lock.
    for _ in $(seq 100); do
        compgen -G "database/.app.sqlite.dbguard-restore.$pid" >/dev/null && break
        sleep 0.05
    done
    sleep 1
    kill -0 "$pid"
    kill -KILL "$pid"
    wait "$pid" || true
    exec 8>&-
    wait "$holder" || true
    [ "$(sum)" = "$wsum" ]
    run -0 sqlite3 "$db" 'PRAGMA integrity_check'
    [ "$output" = ok ]
    run -0 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap "$snapshot"
    [[ $stderr == *"left by an interrupted db-restore"* ]]
    run -0 ls -A database
    [ "$output" = app.sqlite ]
}

@test "usage errors give 2; a --target past the end gives 3" {
    run -2 --separate-stderr db-restore --format=xml --list
    run -2 --separate-stderr db-restore --target=0
    run -3 --separate-stderr db-restore --target=3
    [[ $stderr == *"--target=3: only 1 database is configured here"* ]]
    run -2 --separate-stderr db-restore --meta=x a.sqlite.zst
    run -2 --separate-stderr db-restore --check --into=x
    run -2 --separate-stderr db-restore a b
}
