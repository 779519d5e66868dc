#!/usr/bin/env bats
# db-snap on SQLite and the snapshot store, no server needed: the store's
# rules, round trips through the standard tools, counts under a concurrent
# writer, --list/--latest/--verify, every retention policy on crafted
# snapshots, interruption, a full disk, concurrency, unreachable servers.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj=$BATS_TEST_TMPDIR/proj
    store=$proj/backups
    mkdir -p "$proj"
    cd "$proj"
    sqlite_fixture app.sqlite
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=app.sqlite\n' > .env
}

teardown() {
    [ -z "${mnt:-}" ] || { umount "$mnt" 2>/dev/null || true; }
    [ -z "${snap_pid:-}" ] || { kill -KILL "$snap_pid" 2>/dev/null || true; wait "$snap_pid" 2>/dev/null || true; }
    [ -z "${writer:-}" ] || { kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true; }
    return 0
}

meta() { sed -n "s/^$1=//p" "$2.meta"; }

# Every row of every table, in a stable order.
rows_of() {
    local t
    for t in $(sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"); do
        echo "== $t"
        sqlite3 "$1" "SELECT * FROM \"$t\" ORDER BY rowid"
    done
}

# Files in the store that are neither snapshots nor the store's own.
strays() { find "$store" -mindepth 1 -name '.*' ! -name .gitignore ! -name '.lock.*' -print; }

@test "a snapshot prints only its path; the store is 0700 with .gitignore *, files 0600" {
    run -0 --separate-stderr db-snap
    [ "${#lines[@]}" -eq 1 ]
    [ -z "$stderr" ]
    snap=$output
    [[ $snap == "$store"/app_20[0-9][0-9][01][0-9][0-3][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.sqlite.zst ]]
    [ "$(stat -c %a "$store")" = 700 ]
    [ "$(cat "$store/.gitignore")" = "*" ]
    [ "$(stat -c %a "$snap")" = 600 ]
    [ "$(stat -c %a "$snap.meta")" = 600 ]
    [ "$(meta format "$snap")" = dbguard-snapshot-1 ]
    [ "$(meta engine "$snap")" = sqlite ]
    [ "$(meta database "$snap")" = "$proj/app.sqlite" ]
    [ "$(meta compression "$snap")" = zstd ]
    [ "$(meta size "$snap")" = "$(stat -c %s "$snap")" ]
    [ "$(meta sha256 "$snap")" = "$(sha256sum "$snap" | cut -d' ' -f1)" ]
    [ "$(meta tables "$snap")" = 2 ]
    [ "$(meta rows "$snap")" = 5 ]
    grep -qx "$(printf 'table=orders\t2')" "$snap.meta"
    grep -qx "$(printf 'table=users\t3')" "$snap.meta"
    [ -z "$(strays)" ]
}

@test "round trip: zstd -dc and gunzip -c give back every row; none is the file itself" {
    rows_of app.sqlite > want
    run -0 --separate-stderr db-snap --label before-tests --reason "npm test"
    snap=$output
    [[ $snap == *_before-tests.sqlite.zst ]]
    [ "$(meta label "$snap")" = before-tests ]
    [ "$(meta reason "$snap")" = "npm test" ]
    zstd -q -t "$snap"
    zstd -q -dc "$snap" > zstd.sqlite
    diff want <(rows_of zstd.sqlite)
    [ "$(sqlite3 zstd.sqlite 'PRAGMA integrity_check')" = ok ]

    run -0 --separate-stderr db-snap --compress=gzip:9
    snap=$output
    [[ $snap == *.sqlite.gz ]]
    gzip -t "$snap"
    gunzip -c "$snap" > gzip.sqlite
    diff want <(rows_of gzip.sqlite)
    (cd "$store" && sha256sum -c <(echo "$(meta sha256 "$snap")  $(basename "$snap")")) >/dev/null

    run -0 --separate-stderr db-snap --compress=none
    [[ $output == *Z.sqlite ]]
    diff want <(rows_of "$output")
}

@test "-o FILE writes FILE and FILE.meta; -o - streams, metadata on --meta or stderr" {
    mkdir out
    run -0 --separate-stderr db-snap -o out/app.sqlite.gz
    [ "$output" = out/app.sqlite.gz ]
    gzip -t out/app.sqlite.gz
    [ "$(meta compression out/app.sqlite.gz)" = gzip ]
    [ "$(meta sha256 out/app.sqlite.gz)" = "$(sha256sum out/app.sqlite.gz | cut -d' ' -f1)" ]
    run -0 --separate-stderr db-snap --verify out/app.sqlite.gz
    [ ! -e "$store" ]

    db-snap -o - --meta out/stream.meta > out/stream.zst
    [ "$(sed -n 's/^sha256=//p' out/stream.meta)" = "$(sha256sum out/stream.zst | cut -d' ' -f1)" ]
    [ "$(stat -c %a out/stream.meta)" = 600 ]
    zstd -q -dc out/stream.zst > s.sqlite
    [ "$(sqlite3 s.sqlite 'SELECT count(*) FROM users')" = 3 ]

    run -0 --separate-stderr db-snap -o -
    [[ $stderr == *"format=dbguard-snapshot-1"* ]]
    [[ $stderr == *"table=users"* ]]
    [ ! -e "$store" ]
}

@test "-o and --meta naming a pipe or a device write into it and never replace it" {
    # (a FIFO stands for /dev/null here: as root, replacing /dev/null would
    # break the machine should this ever regress)
    mkfifo data.fifo meta.fifo
    zstd -q -dc < data.fifo > streamed.sqlite &
    reader=$!
    cat meta.fifo > streamed.meta &
    mreader=$!
    run -0 --separate-stderr db-snap -o data.fifo --meta meta.fifo
    wait "$reader"
    wait "$mreader"
    [ -p data.fifo ]
    [ -p meta.fifo ]
    [ "$(sqlite3 streamed.sqlite 'SELECT count(*) FROM users')" = 3 ]
    grep -qx 'format=dbguard-snapshot-1' streamed.meta
    [ ! -e "$store" ]
    # a regular -o FILE with its metadata sent to a pipe
    cat meta.fifo > file.meta &
    mreader=$!
    run -0 --separate-stderr db-snap -o copy.sqlite.zst --meta meta.fifo
    wait "$mreader"
    [ -p meta.fifo ]
    [ "$(sed -n 's/^sha256=//p' file.meta)" = "$(sha256sum copy.sqlite.zst | cut -d' ' -f1)" ]
}

@test "WAL mode with a writer inserting throughout: the counts describe the snapshot exactly" {
    sqlite3 app.sqlite 'PRAGMA journal_mode=WAL' >/dev/null
    sqlite3 app.sqlite "CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
        INSERT INTO events (payload) SELECT hex(randomblob(64)) FROM n"
    (
        exec 3>&-
        for i in $(seq 1 4000); do
            echo "INSERT INTO events (payload) VALUES ('w$i'); INSERT INTO users (name) VALUES ('u$i');"
        done | sqlite3 -cmd '.timeout 5000' app.sqlite
    ) &
    writer=$!
    for round in 1 2 3; do
        run -0 --separate-stderr db-snap
        zstd -q -dc "$output" > "copy$round.sqlite"
        [ "$(sqlite3 "copy$round.sqlite" 'PRAGMA integrity_check')" = ok ]
        for t in events orders users; do
            want=$(sqlite3 "copy$round.sqlite" "SELECT count(*) FROM $t")
            grep -qx "$(printf 'table=%s\t%s' "$t" "$want")" "$output.meta"
        done
    done
    wait "$writer"
    writer=
}

@test "--list: tsv and json machine forms, newest first; --all adds other databases" {
    run -0 db-snap --label one
    first=$output
    sleep 1
    run -0 db-snap
    second=$output
    cp "$first" "$store/other_20200101T000000Z.sqlite.zst"
    cp "$first.meta" "$store/other_20200101T000000Z.sqlite.zst.meta"
    run -0 --separate-stderr db-snap --list --format=tsv
    [ "${#lines[@]}" -eq 3 ]
    [[ ${lines[0]} == path$'\t'database$'\t'engine$'\t'created$'\t'label* ]]
    [[ ${lines[1]} == "$second"$'\t'app$'\t'sqlite$'\t'* ]]
    [[ ${lines[2]} == "$first"$'\t'app$'\t'sqlite$'\t'*$'\t'one$'\t'* ]]
    [[ ${lines[2]} == *$'\t'good$'\t'* ]]
    run -0 --separate-stderr db-snap --list --format=json
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert [s["label"] for s in d] == [None, "one"], d; assert d[0]["counts"] == {"orders": 2, "users": 3}' <<<"$output"
    run -0 --separate-stderr db-snap --list --all --format=tsv
    [ "${#lines[@]}" -eq 4 ]
    [[ ${lines[3]} == *other_20200101T000000Z.sqlite.zst$'\t'other$'\t'* ]]
    run -0 --separate-stderr db-snap --list --format=human
    [[ ${lines[0]} == "CREATED (UTC)"*LABEL*SIZE*ROWS*SNAPSHOT* ]]
    [[ $output == *"$(basename "$first")"* ]]
}

@test "--latest: the newest good snapshot, 3 when there is none, a broken one never" {
    run -3 --separate-stderr db-snap --latest
    [ -z "$output" ]
    [[ $stderr == "db-snap: no good snapshot of 'app'"* ]]
    run -0 db-snap
    good=$output
    run -0 --separate-stderr db-snap --latest
    [ "$output" = "$good" ]
    # newer, but its metadata does not match its size
    cp "$good" "$store/app_29991231T000000Z.sqlite.zst"
    sed 's/^size=.*/size=1/' "$good.meta" > "$store/app_29991231T000000Z.sqlite.zst.meta"
    meta_seal "$store/app_29991231T000000Z.sqlite.zst.meta"
    # its metadata edited and not sealed again
    cp "$good" "$store/app_29991229T000000Z.sqlite.zst"
    sed 's/^rows=.*/rows=999/' "$good.meta" > "$store/app_29991229T000000Z.sqlite.zst.meta"
    touch "$store/app_29991230T000000Z.sqlite.zst"   # no metadata at all: half a snapshot
    run -0 --separate-stderr db-snap --latest
    [ "$output" = "$good" ]
    run -0 --separate-stderr db-snap --list --format=tsv
    [ "${#lines[@]}" -eq 4 ]
    [[ ${lines[1]} == *app_29991231T000000Z.sqlite.zst*$'\t'bad$'\t'*"its size is"* ]]
    [[ ${lines[2]} == *app_29991229T000000Z.sqlite.zst*$'\t'bad$'\t'*"the metadata was edited or damaged"* ]]
    [[ $output != *app_29991230T000000Z* ]]
}

@test "--verify: good ones pass; a flipped byte and a truncated file give 5, each named" {
    run -0 db-snap
    a=$output
    sleep 1
    run -0 db-snap --always --compress=gzip
    b=$output
    sleep 1
    run -0 db-snap --always --compress=none
    c=$output
    run -0 --separate-stderr db-snap --verify
    [ "${#lines[@]}" -eq 3 ]
    [[ $output == *"$a: OK"* ]]
    # flip one byte in the middle of a, cut the end of b, alter c's rows
    size=$(stat -c %s "$a")
    printf '\xff' | dd of="$a" bs=1 seek=$((size / 2)) conv=notrunc status=none
    cmp -s <(zstd -q -dc "$c") "$c" || true
    truncate -s -10 "$b"
    run -5 --separate-stderr db-snap --verify
    [[ $output == *"$a: FAILED"* ]]
    [[ $output == *"$b: FAILED"* ]]
    [[ $output == *"$c: OK"* ]]
    [[ $stderr == *"'$a' failed verification"* ]]
    [[ $stderr == *"'$b' failed verification: its size is"* ]]
    [[ $stderr == *"2 of 3 snapshots failed verification"* ]]
    # the same with paths and with store names as operands
    run -5 --separate-stderr db-snap --verify "$a"
    run -0 --separate-stderr db-snap --verify "$(basename "$c")"
    # a file whose checksum was recomputed after tampering still fails on the metadata
    cp "$c.meta" "$BATS_TEST_TMPDIR/c.meta"
    sed -i 's/^rows=.*/rows=999/' "$c.meta"
    run -5 --separate-stderr db-snap --verify "$c"
    [[ $stderr == *"the metadata was edited or damaged"* ]]
    meta_seal "$c.meta"
    run -5 --separate-stderr db-snap --verify "$c"
    [[ $stderr == *"does not add up"* ]]
    # metadata without its seal (an older dbguard's) is not trusted either
    grep -v '^meta_sha256=' "$BATS_TEST_TMPDIR/c.meta" > "$c.meta"
    run -5 --separate-stderr db-snap --verify "$c"
    [[ $stderr == *"has no meta_sha256 line"* ]]
    # checked by hand, as db-snap(1) says
    cp "$BATS_TEST_TMPDIR/c.meta" "$c.meta"
    [ "$(head -n -1 "$c.meta" | sha256sum | cut -d' ' -f1)" = "$(sed -n 's/^meta_sha256=//p' "$c.meta")" ]
    [ "$(tail -n 1 "$c.meta" | cut -d= -f1)" = meta_sha256 ]
    sed -i 's/^rows=.*/rows=999/' "$c.meta"
    run -5 --separate-stderr db-snap -q --verify "$c" "$BATS_TEST_TMPDIR/nothing.sqlite.zst"
    [[ $stderr == *nothing.sqlite.zst* ]]
}

@test "--verify with nothing to verify gives 3; --list of an empty store gives 0" {
    run -3 --separate-stderr db-snap --verify
    [[ $stderr == *"no snapshots of 'app'"* ]]
    run -0 --separate-stderr db-snap --list --format=tsv
    [ "${#lines[@]}" -eq 1 ]
}

# ---- retention, on snapshots with crafted times ----

ago() { date -u -d "@$(($(date +%s) - $1))" +%Y%m%dT%H%M%SZ; }

# The timestamps of the app snapshots left, newest first, one line.
left() {
    find "$store" -maxdepth 1 -name "${1:-app}_*" ! -name '*.meta' -printf '%f\n' |
        sed -E 's/^[a-z]+_([0-9T]+Z)(_[^.]*)?\..*/\1\2/' | sort -r | tr '\n' ' ' | sed 's/ $//'
}

@test "--keep N keeps the N newest; --keep 0 still keeps the newest; removed paths on stdout" {
    for d in 01 02 03 04 05; do snap_fixture app 202403${d}T120000Z; done
    run -0 --separate-stderr db-snap --prune --keep 2
    [ "${#lines[@]}" -eq 3 ]
    [ "${lines[0]}" = "$store/app_20240303T120000Z.sqlite.zst" ]
    [ "$(left)" = "20240305T120000Z 20240304T120000Z" ]
    [ ! -e "$store/app_20240303T120000Z.sqlite.zst.meta" ]
    [[ $stderr == *"removed 3 snapshots"*"kept 2"* ]]
    run -0 --separate-stderr db-snap --prune --keep 0
    [ "$(left)" = "20240305T120000Z" ]
}

@test "--keep-days D keeps what is younger than D days, and the newest" {
    snap_fixture app "$(ago $((86400 + 60)))"
    snap_fixture app "$(ago $((2 * 86400)))"
    snap_fixture app "$(ago $((4 * 86400)))"
    snap_fixture app "$(ago $((10 * 86400)))"
    run -0 --separate-stderr db-snap --prune --keep-days 3
    [ "$(left | wc -w)" -eq 2 ]
    [ "$(left)" = "$(ago $((86400 + 60))) $(ago $((2 * 86400)))" ] ||
        [ "$(left | wc -w)" -eq 2 ]   # the clock may tick between the two calls
    run -0 --separate-stderr db-snap --prune --keep-days 0
    [ "$(left | wc -w)" -eq 1 ]
}

@test "--keep-hourly and --keep-daily keep the newest of each of the last N periods that have one" {
    for t in 20240310T100500Z 20240310T104000Z 20240310T111000Z 20240310T115000Z \
             20240310T123000Z 20240310T130000Z; do snap_fixture app "$t"; done
    run -0 --separate-stderr db-snap --prune --keep-hourly 3
    [ "$(left)" = "20240310T130000Z 20240310T123000Z 20240310T115000Z" ]
    rm -f "$store"/app_*
    for t in 20240301T080000Z 20240301T200000Z 20240302T090000Z 20240304T100000Z 20240304T110000Z; do
        snap_fixture app "$t"
    done
    run -0 --separate-stderr db-snap --prune --keep-daily 2
    [ "$(left)" = "20240304T110000Z 20240302T090000Z" ]
}

@test "--keep-weekly counts ISO weeks (30 Dec 2024 is in week 1 of 2025); --keep-monthly months" {
    for t in 20241223T120000Z 20241228T120000Z 20241230T120000Z 20250103T120000Z; do snap_fixture app "$t"; done
    run -0 --separate-stderr db-snap --prune --keep-weekly 2
    [ "$(left)" = "20250103T120000Z 20241228T120000Z" ]
    rm -f "$store"/app_*
    for t in 20240115T000000Z 20240131T000000Z 20240210T000000Z 20240401T000000Z 20240402T000000Z; do
        snap_fixture app "$t"
    done
    run -0 --separate-stderr db-snap --prune --keep-monthly 2
    [ "$(left)" = "20240402T000000Z 20240210T000000Z" ]
}

@test "a grandfather-father-son policy keeps the union of its rules" {
    # every 6 hours for 4 days, then daily ones for 60 days before that
    now=$(date +%s)
    for i in $(seq 0 15); do snap_fixture app "$(date -u -d "@$((now - i * 6 * 3600))" +%Y%m%dT%H%M%SZ)"; done
    for i in $(seq 5 64); do snap_fixture app "$(date -u -d "@$((now - i * 86400))" +%Y%m%dT%H%M%SZ)"; done
    run -0 --separate-stderr db-snap --prune --keep-hourly 8 --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run
    would=${#lines[@]}
    [ "$(left | wc -w)" -eq 76 ]     # --dry-run removed nothing
    run -0 --separate-stderr db-snap --prune --keep-hourly 8 --keep-daily 7 --keep-weekly 4 --keep-monthly 12
    [ "${#lines[@]}" -eq "$would" ]
    kept=$(left | wc -w)
    [ "$kept" -eq $((76 - would)) ]
    # the 8 newest (one per 6-hour slot, each its own hour) are all there
    for i in $(seq 0 7); do
        [ -e "$store/app_$(date -u -d "@$((now - i * 6 * 3600))" +%Y%m%dT%H%M%SZ).sqlite.zst" ]
    done
    # at most hourly 8 + daily 7 + weekly 4 + monthly 12 distinct snapshots
    [ "$kept" -le 31 ]
    [ "$kept" -ge 12 ]
}

@test "labelled snapshots survive unless --prune-labelled; files that do not parse are never removed" {
    snap_fixture app 20240101T000000Z pre-restore
    snap_fixture app 20240102T000000Z
    snap_fixture app 20240103T000000Z
    snap_fixture app 20240104T000000Z
    touch "$store/app_20230101T000000Z.sqlite.zst"             # no metadata
    echo garbage > "$store/app_20230102T000000Z.sqlite.zst"
    echo 'format=something-else' > "$store/app_20230102T000000Z.sqlite.zst.meta"
    run -0 --separate-stderr db-snap --prune --keep 1 --dry-run
    [ "$(left)" = "20240104T000000Z 20240103T000000Z 20240102T000000Z 20240101T000000Z_pre-restore 20230102T000000Z 20230101T000000Z" ]
    # a data file without metadata is half a snapshot a killed run left: gone
    run -0 --separate-stderr db-snap --prune --keep 1
    [ "$(left)" = "20240104T000000Z 20240101T000000Z_pre-restore 20230102T000000Z" ]
    run -0 --separate-stderr db-snap --prune --keep 1 --prune-labelled
    [ "$(left)" = "20240104T000000Z 20230102T000000Z" ]
    [ -e "$store/app_20230102T000000Z.sqlite.zst.meta" ]
}

@test "only the target's snapshots are pruned, unless --all (then per database); default keep from config" {
    for d in 01 02 03; do snap_fixture app 202401${d}T000000Z; snap_fixture other 202401${d}T000000Z; done
    run -0 --separate-stderr db-snap --prune --keep 1
    [ "$(left app)" = "20240103T000000Z" ]
    [ "$(left other | wc -w)" -eq 3 ]
    run -0 --separate-stderr db-snap --prune --all --keep 1 --dry-run
    [ "${#lines[@]}" -eq 2 ]
    [ "$(left other | wc -w)" -eq 3 ]
    DBGUARD_KEEP=2 run -0 --separate-stderr db-snap --prune --all
    [ "$(left other)" = "20240103T000000Z 20240102T000000Z" ]
    [ "$(left app)" = "20240103T000000Z" ]
    printf '[db-snap]\nkeep = 1\n' > .dbguard.conf
    run -0 --separate-stderr db-snap --prune --all
    [ "$(left other)" = "20240103T000000Z" ]
}

# ---- interruption, full disk, concurrency ----

# db-snap -o - into a pipe nobody reads: it stops mid-stream, with its
# scratch copy of the database in $TMPDIR.  SIGINT is set back to its default
# (a background job of a script otherwise ignores it).
start_blocked_stream() {
    [ -n "$(sqlite3 app.sqlite "SELECT 1 FROM sqlite_master WHERE name = 'pad'")" ] ||
        sqlite3 app.sqlite "CREATE TABLE pad (b BLOB);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)
        INSERT INTO pad SELECT randomblob(1000) FROM n"
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    mkdir -p "$TMPDIR"
    rm -f fifo
    mkfifo fifo
    env --default-signal=INT db-snap -o - > fifo 2> "$BATS_TEST_TMPDIR/snap.err" &
    snap_pid=$!
    exec 4< fifo
    local before= now
    for i in $(seq 200); do
        now=$(stat -c %s "$TMPDIR"/.db-snap.copy.tmp.* 2>/dev/null || true)
        [ -n "$now" ] && [ "$now" = "$before" ] && [ "$now" -gt 8000000 ] && return 0
        before=$now
        sleep 0.05
    done
    return 1
}

@test "SIGINT in the middle of a stream: the scratch copy goes; status 130" {
    start_blocked_stream
    kill -INT "$snap_pid"
    rc=0; wait "$snap_pid" || rc=$?
    [ "$rc" -eq 130 ]
    exec 4<&-
    [ -z "$(ls -A "$TMPDIR")" ]
    [ ! -e "$store" ]
}

@test "SIGTERM and SIGHUP in the middle: the same, with their own status" {
    start_blocked_stream
    kill -TERM "$snap_pid"
    rc=0; wait "$snap_pid" || rc=$?
    [ "$rc" -eq 143 ]
    exec 4<&-
    [ -z "$(ls -A "$TMPDIR")" ]
    start_blocked_stream
    kill -HUP "$snap_pid"
    rc=0; wait "$snap_pid" || rc=$?
    [ "$rc" -eq 129 ]
    exec 4<&-
    [ -z "$(ls -A "$TMPDIR")" ]
}

@test "a full disk (ulimit -f) gives a clear error, status 1, and no partial file" {
    sqlite3 app.sqlite "CREATE TABLE blob (b BLOB);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
        INSERT INTO blob SELECT randomblob(1000) FROM n"
    # the backup copy of the database (made beside the snapshot) hits the limit
    run -1 --separate-stderr bash -c 'ulimit -f 200; exec db-snap --compress=none'
    [ -z "$output" ]
    [[ $stderr == "db-snap: cannot write '$store/app_"*".sqlite': File too large" ]]
    [ -z "$(strays)" ]
    [ -z "$(find "$store" -name 'app_*')" ]
    run -1 --separate-stderr bash -c 'ulimit -f 200; exec db-snap -o "$1"' _ "$BATS_TEST_TMPDIR/x.sqlite"
    [[ $stderr == *"File too large"* ]]
    [ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name '*x.sqlite*')" ]
}

@test "too little free space for the estimate: a clear refusal before anything is written" {
    # A small file system of our own needs root and the right to mount.
    mnt=$BATS_TEST_TMPDIR/small
    mkdir "$mnt"
    if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
        mnt=
        skip "mounting a 1 MiB tmpfs needs root and CAP_SYS_ADMIN (the ulimit test covers a full disk)"
    fi
    sqlite3 app.sqlite "CREATE TABLE blob (b BLOB);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
        INSERT INTO blob SELECT randomblob(1000) FROM n"
    DBGUARD_BACKUP_DIR=$mnt/store run -1 --separate-stderr db-snap
    [ -z "$output" ]
    [[ $stderr == "db-snap: not enough free space in '$mnt/store' for a snapshot of 'app': "*" free, about "*" needed (database size "*"); free some space"* ]]
    [ -z "$(find "$mnt/store" -mindepth 1 ! -name .gitignore ! -name '.lock.*')" ]
}

@test "-C DIR and --test-run choose the project and its .env.testing" {
    cd /
    run -0 --separate-stderr db-snap -C "$proj"
    [[ $output == "$store"/app_*.sqlite.zst ]]
    cd "$proj"
    cp app.sqlite testing.sqlite
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=testing.sqlite\n' > .env.testing
    run -0 --separate-stderr db-snap --test-run
    [[ $output == "$store"/testing_*.sqlite.zst ]]
    run -0 --separate-stderr db-snap
    [[ $output == "$store"/app_*.sqlite.zst ]]
}

@test "two concurrent snapshots of one database both end well, one after the other" {
    sqlite3 app.sqlite "CREATE TABLE pad (b BLOB);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
        INSERT INTO pad SELECT randomblob(500) FROM n"
    db-snap > a.out 2> a.err &
    a=$!
    db-snap > b.out 2> b.err &
    b=$!
    wait "$a"
    wait "$b"
    [ "$(cat a.out)" != "$(cat b.out)" ]
    run -0 --separate-stderr db-snap --verify
    [ "${#lines[@]}" -eq 2 ]
    [ -z "$(strays)" ]
}

# ---- failures that name the problem ----

@test "unreachable servers give 4; a missing SQLite file gives 4; nothing is configured gives 3" {
    run -4 --separate-stderr db-snap --url "postgres://u:sekrit-pw@127.0.0.1:1/app"
    [[ $stderr == *"cannot reach postgres at 127.0.0.1:1"* ]]
    [[ $stderr != *sekrit-pw* ]]
    run -4 --separate-stderr db-snap --url "mysql://u:sekrit-pw@127.0.0.1:1/app"
    [[ $stderr == *"127.0.0.1:1"* ]]
    [[ $stderr != *sekrit-pw* ]]
    run -4 --separate-stderr db-snap --url "sqlite:///$BATS_TEST_TMPDIR/none.sqlite"
    [[ $stderr == *"none.sqlite"* ]]
    [ ! -e "$store" ]
    rm .env
    run -3 --separate-stderr db-snap
    [[ $stderr == *"no database configured"* ]]
}

@test "usage errors give 2" {
    run -2 --separate-stderr db-snap --compress=lz4
    [[ $stderr == *"unknown compression 'lz4'"* ]]
    run -2 --separate-stderr db-snap --list --latest
    run -2 --separate-stderr db-snap --keep 3
    run -2 --separate-stderr db-snap --prune --keep=-1
    run -2 --separate-stderr db-snap --format=env --list
    run -2 --separate-stderr db-snap extra
    DBGUARD_COMPRESS=brotli run -2 --separate-stderr db-snap
    [[ $stderr == *"environment DBGUARD_COMPRESS"* ]]
}

@test "--target=N snapshots the Nth database of the run, as db-envcheck lists them" {
    sqlite_fixture testing.sqlite
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=testing.sqlite\n' > .env.testing
    run -0 --separate-stderr db-snap --test-run
    [[ $output == "$store"/testing_*.sqlite.zst ]]
    run -0 --separate-stderr db-snap --test-run --target=2
    [[ $output == "$store"/app_*.sqlite.zst ]]
    run -3 --separate-stderr db-snap --test-run --target=3
    [[ $stderr == *"only 2 databases are configured"* ]]
    run -2 --separate-stderr db-snap --target=0
}

@test "--verify of a snapshot that is not there gives 3, not 5" {
    run -0 --separate-stderr db-snap
    good=$output
    run -3 --separate-stderr db-snap --verify "$store/app_20200101T000000Z.sqlite.zst"
    [[ $stderr == *"no snapshot '$store/app_20200101T000000Z.sqlite.zst'"* ]]
    run -3 --separate-stderr db-snap --verify no_such_name.sqlite.zst "$good"
    printf 'x' >> "$good"
    run -5 --separate-stderr db-snap --verify no_such_name.sqlite.zst "$good"
}
