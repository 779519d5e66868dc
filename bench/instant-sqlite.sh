#!/bin/bash
# instant-sqlite.sh — the SQLite clone tier (issue 14, sections 2 and 3) on
# the 1 GB SQLite data set: db-snap --tier=clone against sqlite3 ".backup",
# and db-restore of that snapshot against cp, on the store's own file system
# (ext4 here: a page copy) and, when run as root with xfsprogs installed, on
# an XFS image with reflink made and loop-mounted for the run (a reflink).
# Targets: snapshot ≤ 1.0 × .backup on ext4 and ≤ 50 ms with reflink;
# restore ≤ 1.5 × cp.  Writes the "instant-sqlite" section of RESULTS.md.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options "$@"
bench_init
G_ROUNDS_TEXT="$ROUNDS timed rounds after a warm-up round"
DBSNAP=$DBGUARD_BIN/db-snap
DBRESTORE=$DBGUARD_BIN/db-restore
sq_build_large

XFS_IMG= XFS_MNT=
xfs_cleanup() {
    [ -n "$XFS_MNT" ] && umount "$XFS_MNT" 2>/dev/null
    [ -n "$XFS_IMG" ] && rm -f "$XFS_IMG"
    bench_cleanup
}
trap xfs_cleanup EXIT

# A project in DIR holding a copy of the large database.
project() {
    PROJ=$1
    mkdir -p "$PROJ"
    cp "$SQ_LARGE" "$PROJ/app.sqlite"
    printf 'DATABASE_URL=sqlite://%s/app.sqlite\n' "$PROJ" >"$PROJ/.env"
    printf '[db-snap]\ntier = clone\nkeep_clones = 100\n' >"$PROJ/.dbguard.conf"
    KEEP=$(cd "$PROJ" && "$DBSNAP" --always) || die "cannot snapshot '$PROJ/app.sqlite'"
}

c_clone() { (cd "$PROJ" && "${T[@]}" "$DBSNAP" --always >"$OUT"); }
# Each clone snapshot but the kept one goes after its round (not timed).
post_clone() { find "$PROJ/backups" -maxdepth 1 -name 'app_*' ! -name "${KEEP##*/}*" -delete; }
c_backup() { "${T[@]}" sqlite3 "$PROJ/app.sqlite" ".backup '$PROJ/backup.sqlite'"; }
post_backup() { rm -f "$PROJ/backup.sqlite"; }
c_restore() { (cd "$PROJ" && "${T[@]}" "$DBRESTORE" --confirm=app.sqlite --no-safety-snap "$KEEP"); }
c_cp() { "${T[@]}" cp "$KEEP" "$PROJ/copy.sqlite"; }
post_cp() { rm -f "$PROJ/copy.sqlite"; }

run_groups() { # ID TITLE
    group_begin "$1-snap" "$2: snapshot of $(fmt_bytes "$(stat -c %s "$SQ_LARGE")")" "$ROUNDS"
    contender 'db-snap --tier=clone' c_clone --needs="$DBSNAP" --post=post_clone
    contender 'sqlite3 DB ".backup f"' c_backup --post=post_backup
    group_run
    group_table 'sqlite3 DB ".backup f"'
    if [ "$1" = xfs ]; then
        target_abs 'db-snap --tier=clone' 50000
    else
        target_ratio 'db-snap --tier=clone' 'sqlite3 DB ".backup f"' 1.0
    fi
    md ""
    group_end
    group_begin "$1-restore" "$2: restore of it" "$ROUNDS"
    contender 'db-restore' c_restore --needs="$DBRESTORE"
    contender 'cp' c_cp --post=post_cp
    group_run
    group_table 'cp'
    target_ratio 'db-restore' 'cp' 1.5
    md ""
    group_end
}

md "Issue 14 targets (sections 2, 3): a SQLite clone snapshot (the file copied as it is"
md "into the store) ≤ 1.0 × \`sqlite3 DB \".backup f\"\` on ext4 and ≤ 50 ms on a file"
md "system with reflink; its restore ≤ 1.5 × \`cp\`.  db-snap's time includes what"
md "every snapshot records: the row count of every table and the file's SHA-256."
[ "$MODE" = quick ] && md "" && md "**QUICK MODE: to check the script; small data, fewer rounds.**"
md ""

project "$WORK/ext4"
run_groups ext4 "SQLite on $(stat -f -c %T "$WORK") (page copy)"
rm -rf "$WORK/ext4"

if [ "$(id -u)" = 0 ] && command -v mkfs.xfs >/dev/null; then
    XFS_IMG=$WORK/xfs.img XFS_MNT=$WORK/xfs
    truncate -s $(( $(stat -c %s "$SQ_LARGE") * 4 + (512 << 20) )) "$XFS_IMG"
    mkfs.xfs -q -m reflink=1 "$XFS_IMG" && mkdir -p "$XFS_MNT" && mount -o loop "$XFS_IMG" "$XFS_MNT" ||
        die "cannot make and mount an XFS image"
    project "$XFS_MNT/proj"
    run_groups xfs "SQLite on XFS with reflink (loop image)"
fi

machine_md
misses_md
results_write instant-sqlite "instant snapshots: the SQLite clone tier (bench/instant-sqlite.sh)"
