#!/bin/bash
# push.sh — pushing a snapshot to a remote store (issue 17): `db-snap --push`
# of one snapshot to a WebDAV remote served by `rclone serve webdav` on
# loopback, side by side with `rclone copy` of the same file to the same
# server.  Target: the push ≤ 1.2 × the copy.  The push does more than the
# copy by design: the upload goes under a temporary name, is checked there
# against the snapshot's SHA-256 (WebDAV reports no hash, so by reading it
# back once), is moved into place, and the metadata follows the same way.
# Also: `safe-run true` with [store] push = background against plain
# `safe-run true` (target: no more added than the local snapshot).  Writes
# the push section of RESULTS.md.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options "$@"
bench_init
G_ROUNDS_TEXT="$ROUNDS timed rounds (tiny: $TINY_ROUNDS) after a warm-up round"

DBSNAP=$DBGUARD_BIN/db-snap
SAFERUN=$DBGUARD_BIN/safe-run
command -v rclone >/dev/null || die "rclone is not installed (apt-get install rclone)"

# ------------------------------------------------------------ the server

# The tests' own WebDAV server (t/helpers/rclone.bash): rclone serve webdav
# on 127.0.0.1 and a free port, its password in its environment only, the
# remote "dav:" configured through RCLONE_CONFIG_DAV_* variables; stopped
# on exit.
DBG_RC_TMPDIR=$WORK
# shellcheck source=../t/helpers/rclone.bash
. "$REPO/t/helpers/rclone.bash"
rclone_start_webdav || die "rclone serve webdav did not start"
DAV_DIR=$RC_DAV_DIR
RCLONE_VERSION=$(rclone version 2>/dev/null | head -n 1)

# ------------------------------------------------------------ the contenders

# Each round starts from an empty remote directory (not timed).
empty_remote() { rm -rf "${DAV_DIR:?}"/*; }

c_copy() { "${T[@]}" rclone copy "$SNAP" dav:copy/; }
c_push() { DBGUARD_REMOTE=dav:push "${T[@]}" "$DBSNAP" --push "$SNAP"; }
c_saferun() { "${T[@]}" "$SAFERUN" true; }
c_saferun_bg() { DBGUARD_PUSH=background DBGUARD_REMOTE=dav:bg "${T[@]}" "$SAFERUN" true; }
c_dbsnap() { "${T[@]}" "$DBSNAP" --reason "safe-run: true"; }
# safe-run's snapshots pile up in the store; the background push must have
# arrived before the next round (not timed).
post_saferun() {
    local i
    if [ -f "$PROJ/backups/.push.log" ]; then
        for ((i = 0; i < 1200; i++)); do
            compgen -G "$DAV_DIR/bg/*.meta" >/dev/null && break
            tick 0.05
        done
        rm -f "$PROJ/backups/.push.log"
    fi
    find "$PROJ/backups" -maxdepth 1 -name 'tiny_*' -delete 2>/dev/null
    empty_remote
}

md "Issue 17 targets: pushing a snapshot to a loopback WebDAV remote (\`rclone serve webdav\`)"
md "≤ 1.2 × \`rclone copy\` of the same file to the same server; \`safe-run\` with"
md "\`push = background\` adds no more than the local snapshot does."
md "\`db-snap --push\` uploads under a temporary name, checks the SHA-256 there (WebDAV"
md "reports no hash: the object is read back once), moves it into place and writes the"
md "metadata the same way; $RCLONE_VERSION, the server's directory on the same disk."
[ "$MODE" = quick ] && md "" && md "**QUICK MODE: to check the script; the numbers mean little.**"
md ""

if want sqlite; then
    sq_build_large
    sq_build_tiny
    PROJ=$WORK/proj
    mkdir -p "$PROJ"
    cd "$PROJ" || die "cannot enter '$PROJ'"

    for set in large tiny; do
        if [ $set = large ]; then db=$SQ_LARGE rounds=$ROUNDS; else db=$SQ_TINY rounds=$TINY_ROUNDS; fi
        rm -rf "$PROJ/backups" "$PROJ/database"
        mkdir -p "$PROJ/database"
        cp "$db" "$PROJ/database/$set.sqlite"
        printf 'APP_ENV=local\nDB_CONNECTION=sqlite\nDB_DATABASE=database/%s.sqlite\n' "$set" >"$PROJ/.env"
        SNAP=$("$DBSNAP" -q) || die "db-snap of $set.sqlite failed"
        group_begin "push-$set" "push, SQLite $set" "$rounds"
        contender 'rclone copy' c_copy --post=empty_remote
        contender 'db-snap --push' c_push --needs="$DBSNAP" --post=empty_remote
        group_run
        G_TITLE="push of a snapshot of SQLite $set.sqlite ($(fmt_bytes "$(stat -c %s "$SNAP")") compressed) to WebDAV on loopback"
        group_table 'rclone copy'
        target_ratio 'db-snap --push' 'rclone copy' 1.2
        md ""
        group_end
    done

    # safe-run with push = background against without: the push must not
    # hold up the command.
    rm -rf "$PROJ/backups"
    printf 'APP_ENV=local\nDB_CONNECTION=sqlite\nDB_DATABASE=database/tiny.sqlite\n' >"$PROJ/.env"
    group_begin saferun-bg "safe-run, push = background" "$TINY_ROUNDS"
    contender 'safe-run true' c_saferun --needs="$SAFERUN" --post=post_saferun
    contender 'safe-run true, push = background' c_saferun_bg --needs="$SAFERUN" --post=post_saferun
    contender 'db-snap (the local snapshot)' c_dbsnap --needs="$DBSNAP" --post=post_saferun
    group_run
    G_TITLE="safe-run true on SQLite tiny.sqlite, with and without push = background"
    group_table 'safe-run true'
    a=$(ci 'safe-run true, push = background') b=$(ci 'safe-run true') s=$(ci 'db-snap (the local snapshot)')
    if [ -n "${C_MED[a]}" ] && [ -n "${C_MED[b]}" ] && [ -n "${C_MED[s]}" ]; then
        added=$((C_MED[a] - C_MED[b]))
        check_line "$( ((added <= C_MED[s])) && echo PASS || echo MISS)" \
            "what \`push = background\` adds to \`safe-run true\` ≤ the local snapshot: $(fmt_us "$added") added, db-snap $(fmt_us "${C_MED[s]}")"
    else
        md "- n/a what \`push = background\` adds ≤ the local snapshot: not measured"
    fi
    md ""
    group_end
    cd "$WORK/cwd" || die "cannot enter '$WORK/cwd'"
fi

machine_md
misses_md
results_write push "push to a remote store (bench/push.sh)"
