#!/usr/bin/env bats
# The fault harness: db-snap and db-restore killed with SIGKILL at each step
# of writing a snapshot and of a restore, on PostgreSQL, MariaDB and SQLite.
# The programs are the ones of `make faults` (bin-faults/), whose kill
# points DBGUARD_FAULT=STEP fires (common/base/fault.h); `make check-faults`
# runs this file.  After every kill: no partial snapshot is listed, the
# target is the state before or the snapshot, never a mix, and the next run
# leaves no temporary file, half snapshot, held lock, scratch database or
# credential file.
bats_require_minimum_version 1.5.0
load helpers/common

SNAP_STEPS="snap.locked snap.dumping snap.written snap.renamed snap.committed"
# snap.* during a restore: its safety snapshot killed half way.
RESTORE_STEPS="restore.locked snap.dumping snap.renamed restore.safety restore.load restore.counted
    restore.swap restore.swapped restore.done"

setup_file() {
    grep -q DBGUARD_FAULT "$DBGUARD_BIN/db-snap" ||
        _dbg_die "$DBGUARD_BIN/db-snap has no kill points: run make check-faults (it builds bin-faults/)" || return 1
    pg_start
    mariadb_start
}

teardown_file() {
    mariadb_stop
    pg_stop
}

setup() {
    # a name of this run alone: the dump and load programs still running
    # are found by it, whatever else the machine runs
    app=f${BATS_TEST_NUMBER}p$$
    proj="$BATS_TEST_TMPDIR/proj"
    store=$proj/backups
    mkdir -p "$proj" "$BATS_TEST_TMPDIR/tmp"
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    cd "$proj"
}

# use ENGINE: a fresh database $app of that engine with tables, rows and a
# view, and the project's .env naming it.
use() {
    engine=$1
    case $engine in
    postgres)
        pg_sql "CREATE DATABASE $app" postgres
        pg_sql "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
            INSERT INTO users (name) VALUES ('ann'), ('bob'), ('cy');
            CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id), total numeric);
            INSERT INTO orders VALUES (1, 1, 9.5), (2, 3, 20);
            CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;" "$app" > /dev/null
        printf 'DATABASE_URL=postgres://%s:%s@127.0.0.1:%s/%s\n' "$PGUSER" "$(_dbg_urlencode "$PGPASSWORD")" \
            "$PGPORT" "$app" > .env
        key=$app confirm=$app ;;
    mysql)
        my_sql "CREATE DATABASE $app"
        my_sql "CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL);
            INSERT INTO users (name) VALUES ('ann'), ('bob'), ('cy');
            CREATE TABLE orders (id int PRIMARY KEY, user_id int, total decimal(8,2),
                FOREIGN KEY (user_id) REFERENCES users (id));
            INSERT INTO orders VALUES (1, 1, 9.5), (2, 3, 20);
            CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
            CREATE TRIGGER orders_check BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = ABS(NEW.total);" "$app"
        printf 'DATABASE_URL=mysql://%s:%s@127.0.0.1:%s/%s\n' "$MY_USER" "$(_dbg_urlencode "$MY_PASSWORD")" \
            "$MY_PORT" "$app" > .env
        key=$app confirm=$app ;;
    sqlite)
        mkdir -p "$proj/database"
        db=$proj/database/app.sqlite
        sqlite_fixture "$db"
        printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
        key=app confirm=app.sqlite ;;
    esac
}

# The target's whole content (schema and rows), as one hash.
content() {
    case $engine in
    postgres)
        "$PG_BIN/pg_dump" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$app" | grep -v '^\\\(un\)\?restrict ' ;;
    mysql)
        MYSQL_PWD=$MY_PASSWORD mariadb-dump --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" \
            -u "$MY_USER" --skip-dump-date --skip-comments --routines --triggers --events "$app" ;;
    sqlite)
        sqlite3 "$db" .dump | grep -v dbguard_marker ;;
    esac | sha256sum | cut -d' ' -f1
}

wreck() {
    case $engine in
    postgres) pg_sql "DELETE FROM orders WHERE id = 1; UPDATE users SET name = 'zed'; DROP VIEW big_orders;
        CREATE TABLE extra (x int); INSERT INTO extra VALUES (1);" "$app" > /dev/null ;;
    mysql) my_sql "DELETE FROM orders WHERE id = 1; UPDATE users SET name = 'zed'; DROP VIEW big_orders;
        DROP TRIGGER orders_check; CREATE TABLE extra (x int); INSERT INTO extra VALUES (1);" "$app" ;;
    sqlite) sqlite3 "$db" "DELETE FROM orders WHERE id = 1; UPDATE users SET name = 'zed';
        DROP VIEW big_orders; CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (1);" ;;
    esac
}

# Scratch and replaced databases (schemas, files) of $app that a restore left.
scratch() {
    case $engine in
    postgres) pg_sql "SELECT datname FROM pg_database WHERE datname LIKE '${app}\\_%'" postgres ;;
    mysql) my_sql "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${app}\\_\\_%'" ;;
    sqlite) ls -A "$proj/database" | grep -vx app.sqlite || true ;;
    esac
}

# Processes still running for a killed program: its dump or load client.
children() {
    local f
    for f in /proc/[0-9]*/cmdline; do
        case $( { tr '\0' ' ' < "$f"; } 2> /dev/null) in
        *pg_dump*" $app"* | *mariadb-dump*" $app"* | *psql*"$app"* | *"mariadb "*"$app"*) echo "${f%/cmdline}" ;;
        esac
    done
}
wait_children_gone() {
    for _ in $(seq 200); do
        [ -z "$(children)" ] && return 0
        sleep 0.05
    done
    echo "still running: $(children)"
    return 1
}

# The snapshots of $key listed, one "STATUS NAME" a line.
listed() {
    db-snap --list --format=tsv | awk -F'\t' 'NR > 1 { n = split($1, p, "/"); print $11, p[n] }'
}

# What no run may leave once the next one is done: temporary files, half
# snapshots (a data file without metadata or metadata without data), a
# held lock, a record of an unfinished restore, anything in TMPDIR (a
# credential file, a scratch copy).
assert_clean_store() {
    local f stray
    stray=$(find "$store" -mindepth 1 -maxdepth 1 -name '.*' ! -name .gitignore ! -name '.lock.*')
    [ -z "$stray" ] || { echo "left in the store: $stray"; return 1; }
    for f in "$store"/*; do
        case $f in
        *.meta) [ -e "${f%.meta}" ] || { echo "metadata without data: $f"; return 1; } ;;
        *) [ -e "$f.meta" ] || { echo "data without metadata: $f"; return 1; } ;;
        esac
    done
    flock -n "$store/.lock.$key" true || { echo "the lock of $key is held"; return 1; }
    [ -z "$(ls -A "$TMPDIR")" ] || { echo "left in TMPDIR: $(ls -A "$TMPDIR")"; return 1; }
    run -0 --separate-stderr db-snap --verify
    ! listed | grep -v '^good ' || { echo "a snapshot listed as not good"; return 1; }
}

# kill_snap STEP: db-snap killed at STEP; then the listing and the next run.
kill_snap() {
    local step=$1 before after
    before=$(listed | wc -l)
    # --always: the database has not changed since the last snapshot,
    # which db-snap would otherwise reuse without a dump
    run -137 --separate-stderr env DBGUARD_FAULT="$step" db-snap --always
    [[ $stderr == *"fault: SIGKILL at $step"* ]]
    wait_children_gone
    [ -z "$(ls -A "$TMPDIR")" ] || { echo "$step: left in TMPDIR: $(ls -A "$TMPDIR")"; return 1; }
    # never a partial snapshot listed: a new one only once it is committed
    after=$(listed)
    ! grep -v '^good ' <<< "$after" || { echo "$step: listed as not good"; return 1; }
    if [ "$step" = snap.committed ]; then
        [ "$(grep -c . <<< "$after")" -eq $((before + 1)) ]
    else
        [ "$(grep -c . <<< "$after")" -eq "$before" ] || { echo "$step: $after"; return 1; }
    fi
    # the next run cleans up and succeeds
    run -0 --separate-stderr db-snap --always
    assert_clean_store
}

snap_every_step() {
    use "$1"
    run -0 --separate-stderr db-snap
    local step
    for step in $SNAP_STEPS; do
        echo "# $engine: db-snap killed at $step" >&3
        kill_snap "$step"
    done
}

@test "db-snap killed at every step on PostgreSQL: nothing partial listed, the next run cleans up" {
    snap_every_step postgres
}

@test "db-snap killed at every step on MariaDB: nothing partial listed, the next run cleans up" {
    snap_every_step mysql
}

@test "db-snap killed at every step on SQLite: nothing partial listed, the next run cleans up" {
    snap_every_step sqlite
}

# kill_restore STEP SNAPSHOT: db-restore of SNAPSHOT killed at STEP, on a
# target holding the wrecked state; the target is either state, whole; the
# next run finishes the restore and leaves nothing behind.
kill_restore() {
    local step=$1 snapshot=$2 wrecked now
    wreck
    wrecked=$(content)
    if [[ $step == snap.* ]]; then
        # the safety snapshot's db-snap killed: db-restore says so, and stops
        run -1 --separate-stderr env DBGUARD_FAULT="$step" db-restore --confirm="$confirm" "$snapshot"
        [[ $stderr == *"the safety snapshot failed"*"nothing was changed"* ]]
    else
        run -137 --separate-stderr env DBGUARD_FAULT="$step" db-restore --confirm="$confirm" "$snapshot"
    fi
    [[ $stderr == *"fault: SIGKILL at $step"* ]]
    wait_children_gone
    [ -z "$(ls -A "$TMPDIR")" ] || { echo "$step: left in TMPDIR: $(ls -A "$TMPDIR")"; return 1; }
    now=$(content)
    case $engine:$step in
    mysql:restore.swap)
        # MariaDB cannot rename a schema: from its first change to the
        # target the store holds a record, from which the next run finishes.
        [ -e "$store/.restore-$app.state" ] ;;
    *:restore.swapped | *:restore.done)
        [ "$now" = "$want" ] || { echo "$step: the target is not the snapshot"; return 1; } ;;
    *)
        [ "$now" = "$wrecked" ] || { echo "$step: the target changed"; return 1; } ;;
    esac
    ! listed | grep -v '^good ' || { echo "$step: a snapshot listed as not good"; return 1; }
    # the next run
    run -0 --separate-stderr db-restore --confirm="$confirm" --no-safety-snap "$snapshot"
    [ "$(content)" = "$want" ]
    [ -z "$(scratch)" ] || { echo "$step: scratch left: $(scratch)"; return 1; }
    assert_clean_store
}

restore_every_step() {
    use "$1"
    want=$(content)
    run -0 --separate-stderr db-snap --label=good
    local snapshot=$output step
    for step in $RESTORE_STEPS; do
        echo "# $engine: db-restore killed at $step" >&3
        kill_restore "$step" "$snapshot"
    done
}

@test "db-restore killed at every step on PostgreSQL: the target is never half-restored" {
    restore_every_step postgres
}

@test "db-restore killed at every step on MariaDB: the target is never half-restored" {
    restore_every_step mysql
}

@test "db-restore killed at every step on SQLite: the target is never half-restored" {
    restore_every_step sqlite
}

# corrupt ENGINE: a flipped byte, a cut file and edited metadata are refused
# with 5 by --verify and db-restore, the target untouched.
corrupt() {
    use "$1"
    run -0 --separate-stderr db-snap
    local snapshot=$output good wrecked size
    good=$BATS_TEST_TMPDIR/good
    cp "$snapshot" "$good"
    cp "$snapshot.meta" "$good.meta"
    wreck
    wrecked=$(content)
    size=$(stat -c %s "$snapshot")
    printf '\xff' | dd of="$snapshot" bs=1 seek=$((size / 2)) conv=notrunc status=none
    cmp -s "$snapshot" "$good" && printf '\x00' | dd of="$snapshot" bs=1 seek=$((size / 2)) conv=notrunc status=none
    run -5 --separate-stderr db-snap --verify "$snapshot"
    run -5 --separate-stderr db-restore --confirm="$confirm" "$snapshot"
    [ "$(content)" = "$wrecked" ]
    head -c $((size - 7)) "$good" > "$snapshot"
    run -5 --separate-stderr db-restore --confirm="$confirm" "$snapshot"
    [ "$(content)" = "$wrecked" ]
    cp "$good" "$snapshot"
    # a row count, a table removed, another database named: the seal fails
    local other=mysql
    [ "$engine" = mysql ] && other=postgres
    for edit in 's/^rows=\([0-9]*\)/rows=1\1/' '/^table=orders/d' "s/^database=.*/database=other/" \
        "s/^engine=.*/engine=$other/" '$d'; do
        cp "$good.meta" "$snapshot.meta"
        sed -i "$edit" "$snapshot.meta"
        run -1 cmp -s "$good.meta" "$snapshot.meta"
        run -5 --separate-stderr db-snap --verify "$snapshot"
        run -5 --separate-stderr db-restore --confirm="$confirm" "$snapshot"
        [[ $stderr == *"failed verification"*"nothing was changed"* ]]
        [ "$(content)" = "$wrecked" ]
    done
    cp "$good.meta" "$snapshot.meta"
    run -0 --separate-stderr db-restore --confirm="$confirm" --no-safety-snap "$snapshot"
    [ "$(content)" != "$wrecked" ]
    [ -z "$(scratch)" ]
    assert_clean_store
}

@test "corrupted data and edited metadata are refused with 5 on PostgreSQL, the target untouched" {
    corrupt postgres
}

@test "corrupted data and edited metadata are refused with 5 on MariaDB, the target untouched" {
    corrupt mysql
}

@test "corrupted data and edited metadata are refused with 5 on SQLite, the target untouched" {
    corrupt sqlite
}

# ---- a full file system: a small tmpfs mounted by the test (root only) ----

tmpfs() { # tmpfs DIR SIZE
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1"
    mounts+=("$1")
}

teardown() {
    local m
    for m in "${mounts[@]}"; do umount "$m" 2> /dev/null || umount -l "$m" || true; done
    mounts=()
}

# Rows of incompressible data: more than the small file system holds.
bulk() {
    case $engine in
    postgres) pg_sql "CREATE TABLE bulk AS SELECT g AS id, decode(string_agg(md5(random()::text || g || r), ''), 'hex') AS b
        FROM generate_series(1, 2000) g, generate_series(1, 40) r GROUP BY g" "$app" > /dev/null ;;
    mysql) my_sql "CREATE TABLE bulk (id int PRIMARY KEY, b longblob);
        INSERT INTO bulk SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_2000;
        INSERT INTO bulk SELECT seq + 2000, RANDOM_BYTES(1024) FROM seq_1_to_2000;" "$app" ;;
    sqlite) sqlite3 "$db" "CREATE TABLE bulk (id INTEGER PRIMARY KEY, b BLOB);
        WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 4000)
        INSERT INTO bulk SELECT i, randomblob(1024) FROM s;" ;;
    esac
}

full_disk() {
    [ "$(id -u)" = 0 ] || skip "mounting a small tmpfs needs root (CI runs as root)"
    mounts=()
    use "$1"
    bulk
    # the store on a file system too small for a snapshot
    tmpfs "$store" 3m
    local before
    before=$(content)
    run -1 --separate-stderr db-snap
    [[ $stderr == *"No space left on device"* || $stderr == *"not enough free space"* ]]
    [ "$(grep -c . <<< "$stderr")" -eq 1 ]
    [ -z "$(find "$store" -mindepth 1 ! -name .gitignore ! -name '.lock.*')" ]
    wait_children_gone
    [ -z "$(ls -A "$TMPDIR")" ]
    # a restore whose safety snapshot does not fit stops before the target:
    # the store holds the snapshot and little more
    umount "$store"
    run -0 --separate-stderr db-snap
    local snapshot=$output
    mv "$snapshot" "$snapshot.meta" "$BATS_TEST_TMPDIR/"
    rm -rf "$store"
    tmpfs "$store" $(($(stat -c %s "$BATS_TEST_TMPDIR/${snapshot##*/}") / 1024 + 256))k
    cp "$BATS_TEST_TMPDIR/${snapshot##*/}" "$BATS_TEST_TMPDIR/${snapshot##*/}.meta" "$store/"
    wreck
    before=$(content)
    run -1 --separate-stderr db-restore --confirm="$confirm" "$snapshot"
    [ "$(content)" = "$before" ]
    wait_children_gone
    [ -z "$(scratch)" ]
    [ -z "$(find "$store" -mindepth 1 -name '.*' ! -name .gitignore ! -name '.lock.*')" ]
    [ -z "$(ls -A "$TMPDIR")" ]
    ! listed | grep -v '^good '
}

@test "a full file system for a snapshot and a restore on PostgreSQL: a clear error, nothing partial" {
    full_disk postgres
}

@test "a full file system for a snapshot and a restore on MariaDB: a clear error, nothing partial" {
    full_disk mysql
}

@test "a full file system for a snapshot and a restore on SQLite: a clear error, nothing partial" {
    full_disk sqlite
}

@test "a full file system beside a SQLite target: the restore fails whole, the target untouched" {
    [ "$(id -u)" = 0 ] || skip "mounting a small tmpfs needs root (CI runs as root)"
    mounts=()
    use sqlite
    bulk
    run -0 --separate-stderr db-snap
    local snapshot=$output before
    # the target alone on a file system with no room for the restored copy
    mkdir -p "$proj/small"
    tmpfs "$proj/small" 6m
    cp "$db" "$proj/small/app.sqlite"
    head -c $((6 * 1024 * 1024 - $(stat -c %s "$db") - 512 * 1024)) /dev/zero > "$proj/small/filler" || true
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=small/app.sqlite\n' > .env
    db=$proj/small/app.sqlite
    sqlite3 "$db" "DELETE FROM users WHERE id = 1"
    before=$(content)
    run -1 --separate-stderr db-restore --confirm=app.sqlite --no-safety-snap --into="$db" "$snapshot"
    [[ $stderr == *"No space left on device"* ]]
    [ "$(content)" = "$before" ]
    [ "$(ls -A "$proj/small" | sort | tr '\n' ' ')" = "app.sqlite filler " ]
    run -0 sqlite3 "$db" 'PRAGMA integrity_check'
    [ "$output" = ok ]
}
