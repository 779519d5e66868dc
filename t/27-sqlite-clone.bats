#!/usr/bin/env bats
# The clone tier on SQLite (issue 14, section 2): the database copied as it
# is into the store — a reflink (FICLONE) on a file system that shares
# blocks, tested on an XFS image this file makes and loop-mounts (root and
# mkfs.xfs needed: `make deps` installs xfsprogs), a page copy through the
# online backup API elsewhere (ext4 here); restored by a copy renamed into
# place (a reflink again where possible).
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    export XFS_MNT=
    if [ "$(id -u)" = 0 ] && command -v mkfs.xfs >/dev/null && [ -e /dev/loop-control ]; then
        truncate -s 320M "$BATS_FILE_TMPDIR/xfs.img"
        mkfs.xfs -q -m reflink=1 "$BATS_FILE_TMPDIR/xfs.img"
        mkdir -p "$BATS_FILE_TMPDIR/xfs"
        mount -o loop "$BATS_FILE_TMPDIR/xfs.img" "$BATS_FILE_TMPDIR/xfs"
        export XFS_MNT=$BATS_FILE_TMPDIR/xfs
    fi
}

teardown_file() {
    [ -z "${XFS_MNT:-}" ] || umount "$XFS_MNT"
    rm -f "$BATS_FILE_TMPDIR/xfs.img"
}

# A project with a SQLite database of some size in directory $1.
project() {
    proj=$1
    mkdir -p "$proj"
    cd "$proj"
    sqlite_fixture "$proj/app.sqlite"
    sqlite3 "$proj/app.sqlite" "CREATE TABLE big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
        SELECT x + 1 FROM c WHERE x < 20000) SELECT x, hex(randomblob(64)) AS h FROM c"
    export DATABASE_URL=sqlite://$proj/app.sqlite
    printf '[db-snap]\ntier = clone\n' >.dbguard.conf
}

@test "ext4: a page copy, uncompressed, kind clone, verified and restored" {
    [ "$(stat -f -c %T "$BATS_TEST_TMPDIR")" = ext2/ext3 ] ||
        skip "BATS_TEST_TMPDIR is not on ext4 here ($(stat -f -c %T "$BATS_TEST_TMPDIR"))"
    project "$BATS_TEST_TMPDIR/proj"
    run -0 --separate-stderr db-snap -v
    snap=$output
    [[ $snap == "$proj/backups/app_"*Z.sqlite ]]
    [[ $stderr == *"a page copy of"* ]]
    grep -q '^kind=clone$' "$snap.meta"
    grep -q '^compression=none$' "$snap.meta"
    grep -q '^table=big	20000$' "$snap.meta"
    [ "$(sqlite3 "$snap" 'SELECT count(*) FROM big')" = 20000 ]
    run -0 --separate-stderr db-snap --list --format=tsv
    [[ ${lines[1]} == "$snap"*$'\t'clone ]]
    run -0 --separate-stderr db-snap -v --verify "$snap"
    [ "$output" = "$snap: OK" ]
    sqlite3 "$proj/app.sqlite" "DELETE FROM big WHERE x > 10"
    run -0 --separate-stderr db-restore -v --confirm=app.sqlite --no-safety-snap "$snap"
    [[ $stderr != *"(reflink)"* ]]
    [ "$(sqlite3 "$proj/app.sqlite" 'SELECT count(*) FROM big')" = 20000 ]
    # The snapshot is untouched by the restore.
    run -0 --separate-stderr db-snap --verify "$snap"
}

@test "XFS with reflink: the snapshot shares the database's blocks; so does the restore" {
    [ -n "$XFS_MNT" ] || skip "needs root, mkfs.xfs (xfsprogs) and loop devices"
    project "$XFS_MNT/proj"
    run -0 --separate-stderr db-snap -v
    snap=$output
    [[ $stderr == *"a reflink of"* ]]
    filefrag -v "$snap" | grep -q shared
    grep -q '^table=big	20000$' "$snap.meta"
    run -0 --separate-stderr db-snap -v --verify "$snap"
    sqlite3 "$proj/app.sqlite" "DELETE FROM big; DROP TABLE orders"
    run -0 --separate-stderr db-restore -v --confirm=app.sqlite --no-safety-snap "$snap"
    [[ $stderr == *"(reflink)"* ]]
    [ "$(sqlite3 "$proj/app.sqlite" 'SELECT count(*) FROM big')" = 20000 ]
    [ "$(sqlite3 "$proj/app.sqlite" 'SELECT count(*) FROM orders')" = 2 ]
    # A write to the restored file does not reach the snapshot.
    sqlite3 "$proj/app.sqlite" "UPDATE big SET h = 'x'"
    run -0 --separate-stderr db-snap --verify "$snap"
    [ "$(sqlite3 "$snap" "SELECT count(*) FROM big WHERE h = 'x'")" = 0 ]
}

@test "WAL with committed pages in the log: a page copy, which holds them" {
    [ -n "$XFS_MNT" ] || skip "needs root, mkfs.xfs (xfsprogs) and loop devices"
    project "$XFS_MNT/proj-wal"
    sqlite3 "$proj/app.sqlite" "PRAGMA journal_mode = WAL" >/dev/null
    sqlite3 -cmd ".dbconfig no_ckpt_on_close on" "$proj/app.sqlite" "INSERT INTO users (name) VALUES ('in the log')" >/dev/null
    [ -s "$proj/app.sqlite-wal" ]
    run -0 --separate-stderr db-snap -v
    snap=$output
    [[ $stderr == *"a page copy of"* ]]
    [ "$(sqlite3 "$snap" "SELECT count(*) FROM users WHERE name = 'in the log'")" = 1 ]
}

@test "keep_clones applies to SQLite copies; --tier=dump still compresses" {
    project "$BATS_TEST_TMPDIR/proj-keep"
    printf '[db-snap]\ntier = clone\nkeep_clones = 2\n' >.dbguard.conf
    local -a s=()
    for i in 1 2 3; do
        sqlite3 "$proj/app.sqlite" "INSERT INTO users (name) VALUES ('u$i')"
        run -0 --separate-stderr db-snap --always
        s+=("$output")
    done
    [ ! -e "${s[0]}" ]
    [ -e "${s[1]}" ]
    [ -e "${s[2]}" ]
    run -0 --separate-stderr db-snap --tier=dump --always
    [[ $output == *.sqlite.zst ]]
    run -1 grep -q '^kind=' "$output.meta"
}
