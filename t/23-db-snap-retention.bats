#!/usr/bin/env bats
# Retention with no cron: db-snap applies the configured retention to a
# database after each of its snapshots ([db-snap] keep, the GFS keys,
# auto_prune), never removing a labelled snapshot, the newest good one, or
# one that the last keep_undo runs of safe-run's journal refer to.  Real
# SQLite files and a real PostgreSQL.
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
    store=$proj/backups
    mkdir -p "$proj"
    cd "$proj"
    sqlite_fixture app.sqlite
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=app.sqlite\n' > .env
}

count() { find "$store" -maxdepth 1 -name "${1:-app}_*" ! -name '*.meta' | wc -l; }

@test "each snapshot applies [db-snap] keep to its database; the default is 30" {
    for d in $(seq -w 1 31); do snap_fixture app 202401${d}T000000Z; done
    for d in 01 02 03; do snap_fixture other 202401${d}T000000Z; done
    run -0 --separate-stderr db-snap
    [ "${#lines[@]}" -eq 1 ]
    [ "$(count)" -eq 30 ]
    [ ! -e "$store/app_20240102T000000Z.sqlite.zst" ]
    [ -e "$store/app_20240103T000000Z.sqlite.zst" ]
    [ "$(count other)" -eq 3 ]
    printf '[db-snap]\nkeep = 3\n' > .dbguard.conf
    # A change, so this db-snap takes a snapshot (an unchanged database
    # reuses the newest one, issue 14).
    sqlite3 app.sqlite "insert into users (name) values ('dan')"
    run -0 --separate-stderr db-snap -v
    [[ $stderr != *"unchanged since"* ]]
    [[ $stderr == *"removed 28 snapshots"* ]]
    [ "$(count)" -eq 3 ]
}

@test "auto_prune = no leaves the store alone; labelled snapshots stay" {
    for d in 01 02 03 04; do snap_fixture app 202401${d}T000000Z; done
    snap_fixture app 20231201T000000Z pre-restore
    printf '[db-snap]\nkeep = 1\nauto_prune = no\n' > .dbguard.conf
    run -0 --separate-stderr db-snap
    [ "$(count)" -eq 6 ]
    printf '[db-snap]\nkeep = 1\n' > .dbguard.conf
    run -0 --separate-stderr db-snap
    [ "$(count)" -eq 2 ]
    [ -e "$store/app_20231201T000000Z_pre-restore.sqlite.zst" ]
}

@test "the GFS keys apply after each snapshot too" {
    for d in 01 02 03 04 05; do snap_fixture app 202401${d}T000000Z; snap_fixture app 202401${d}T120000Z; done
    printf '[db-snap]\nkeep = 1\nkeep_daily = 3\n' > .dbguard.conf
    run -0 --separate-stderr db-snap
    # The new one (today), and the newest of each of the two days before it that have one.
    [ "$(count)" -eq 3 ]
    [ -e "$store/app_20240105T120000Z.sqlite.zst" ]
    [ -e "$store/app_20240104T120000Z.sqlite.zst" ]
}

@test "the snapshots of the last keep_undo journal runs are never pruned, older ones may be" {
    printf '[db-snap]\nkeep = 1\nkeep_undo = 2\n' > .dbguard.conf
    run -0 --separate-stderr safe-run sqlite3 app.sqlite 'delete from orders'
    first=$(cut -f8 "$store/journal")
    run -0 --separate-stderr safe-run sqlite3 app.sqlite 'delete from users'
    second=$(tail -n 1 "$store/journal" | cut -f8)
    [ -e "$first" ]
    [ -e "$second" ]
    # At each snapshot the journal's last keep_undo runs are protected.
    run -0 --separate-stderr safe-run true
    third=$(tail -n 1 "$store/journal" | cut -f8)
    [ -e "$first" ]
    run -0 --separate-stderr safe-run true
    fourth=$(tail -n 1 "$store/journal" | cut -f8)
    [ ! -e "$first" ]
    [ -e "$second" ]
    run -0 --separate-stderr safe-run --journal -n 4
    [[ $output == *"delete from orders'  [pruned]"* ]]
    run -0 --separate-stderr db-snap --prune --keep 0
    [ ! -e "$second" ]
    [ -e "$third" ]
    [ -e "$fourth" ]
}

@test "db-snap -q --prune prints nothing on success; without -q the removed paths" {
    for d in 01 02 03; do snap_fixture app 202401${d}T000000Z; done
    run -0 --separate-stderr db-snap -q --prune --keep 1
    [ -z "$output" ]
    [ -z "$stderr" ]
    [ "$(count)" -eq 1 ]
    for d in 01 02; do snap_fixture app 202312${d}T000000Z; done
    run -0 --separate-stderr db-snap --prune --keep 1
    [ "${#lines[@]}" -eq 2 ]
}

@test "retention after a PostgreSQL snapshot keeps its own database's snapshots only" {
    rm .env
    printf '[db-snap]\nkeep = 2\n' > .dbguard.conf
    for i in 1 2 3; do DATABASE_URL=$PG_URL run -0 --separate-stderr db-snap --always; done
    [ "$(count "$PGDATABASE")" -eq 2 ]
}
