#!/bin/bash
# instant.sh — what the guard costs when the database has not changed
# (issue 14, section 3): on the large data sets, `safe-run true` and a bare
# `db-snap` against a database unchanged since its last snapshot, side by
# side with `true` and with the anchor `pg_dump > /dev/null` of the tiny
# PostgreSQL database.  Target: the time safe-run adds ≤ 0.5 × that anchor,
# on every engine, and no growth with the database's size (the tiny
# database is measured the same way) and no byte added to the store.
# Then the PostgreSQL clone tier (section 2) on the large database with no
# other session: db-snap --tier=clone against pg_dump > /dev/null, db-restore
# of the clone against zstd -dc S | psql, and the snapshot-and-restore cycle
# against pg_dump -Fc + pg_restore.  Writes the "instant" section of
# RESULTS.md.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options "$@"
bench_init
G_ROUNDS_TEXT="$TINY_ROUNDS timed rounds after a warm-up round"

SAFERUN=$DBGUARD_BIN/safe-run
DBSNAP=$DBGUARD_BIN/db-snap
TRUE_BIN=$(type -P true)

c_true() { "${T[@]}" "$TRUE_BIN"; }
c_saferun() { (cd "$PROJ" && "${T[@]}" "$SAFERUN" true); }
c_saferun_tiny() { (cd "$PROJ_TINY" && "${T[@]}" "$SAFERUN" true); }
c_dbsnap() { (cd "$PROJ" && "${T[@]}" "$DBSNAP"); }
c_pg_tiny() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER" bench_tiny >/dev/null; }

# A project whose .env names URL, with one snapshot taken (not timed).
project() { # DIR URL
    mkdir -p "$1"
    printf 'APP_ENV=local\nDATABASE_URL=%s\n' "$2" >"$1/.env"
    (cd "$1" && "$DBSNAP" -q --always >/dev/null) || die "cannot take the first snapshot in '$1'"
    # A SQLite file just written proves nothing for a second (file times
    # are coarse): wait until db-snap reuses, as it will in real life.
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(cd "$1" && "$DBSNAP" -v 2>&1 >/dev/null | grep -c 'unchanged since')" = 1 ] && return 0
        sleep 0.2
    done
    die "db-snap never found '$2' unchanged in '$1'"
}

store_bytes() { du -sb "$1/backups" | cut -f1; }

# The anchor: pg_dump of the tiny PostgreSQL database, measured in every
# group so each ratio compares two things measured side by side.
unchanged_group() { # ENGINE TITLE URL TINY_URL
    PROJ=$WORK/proj-$1 PROJ_TINY=$WORK/proj-$1-tiny
    project "$PROJ" "$3"
    project "$PROJ_TINY" "$4"
    local before=$(($(store_bytes "$PROJ") + $(store_bytes "$PROJ_TINY")))
    group_begin "unchanged-$1" "$2" "$TINY_ROUNDS"
    contender true c_true
    contender 'safe-run true (unchanged, large)' c_saferun --needs="$SAFERUN"
    contender 'safe-run true (unchanged, tiny)' c_saferun_tiny --needs="$SAFERUN"
    contender 'db-snap (unchanged, large)' c_dbsnap --needs="$DBSNAP"
    contender 'pg_dump tiny > /dev/null' c_pg_tiny
    group_run
    local after=$(($(store_bytes "$PROJ") + $(store_bytes "$PROJ_TINY")))
    group_table 'pg_dump tiny > /dev/null'
    local a t p s
    a=$(ci 'safe-run true (unchanged, large)') t=$(ci true) p=$(ci 'pg_dump tiny > /dev/null')
    s=$(ci 'safe-run true (unchanged, tiny)')
    if [ -n "${C_MED[a]}" ] && [ -n "${C_MED[t]}" ] && [ -n "${C_MED[p]}" ]; then
        local added=$((C_MED[a] - C_MED[t])) added_tiny=$((C_MED[s] - C_MED[t])) r
        r=$(ratio "$added" "${C_MED[p]}")
        check_line "$(awk -v r="$r" 'BEGIN { print (r <= 0.5 ? "PASS" : "MISS") }')" \
            "time added by \`safe-run\` on the unchanged large database ≤ 0.5 × \`pg_dump tiny > /dev/null\`: $r × ($(fmt_us "$added") added, pg_dump $(fmt_us "${C_MED[p]}"))"
        md "- the same on the tiny database: $(fmt_us "$added_tiny") added (the cost does not grow with the size: $(ratio "$added" "$added_tiny") × the tiny one's)"
    fi
    check_line "$( ((after - (before + 0) <= 4096 * (TINY_ROUNDS + 1) * 2)) && echo PASS || echo MISS)" \
        "bytes added to the store over all rounds: $((after - before)) (the journal's lines only; no snapshot)"
    md ""
    group_end
}

md "Issue 14 targets (section 3): \`safe-run true\` on a database unchanged since its"
md "last snapshot adds ≤ 0.5 × \`pg_dump > /dev/null\` of the tiny database, on every"
md "engine, and the added time does not grow with the database's size.  Added time ="
md "median of \`safe-run true\` − median of \`true\`.  Each project's .env names the"
md "database; one snapshot was taken before the rounds, so every round finds the"
md "database unchanged and reuses it."
[ "$MODE" = quick ] && md "" && md "**QUICK MODE: to check the script; small data, fewer rounds.**"
md ""

bench_pg_start
pg_build_tiny
if want pg; then
    pg_build_large
    unchanged_group pg "PostgreSQL: bench_large ($(fmt_bytes "$(pg_db_size bench_large)")) unchanged" \
        "$(pg_url bench_large)" "$(pg_url bench_tiny)"
fi
if want mariadb; then
    bench_my_start
    my_build_large
    my_build_tiny
    unchanged_group mariadb "MariaDB: bench_large ($(fmt_bytes "$(my_db_size bench_large)")) unchanged" \
        "$(my_url bench_large)" "$(my_url bench_tiny)"
    bench_my_stop
fi
if want sqlite; then
    sq_build_large
    sq_build_tiny
    unchanged_group sqlite "SQLite: large.sqlite ($(fmt_bytes "$(stat -c %s "$SQ_LARGE")")) unchanged" \
        "sqlite://$SQ_LARGE" "sqlite://$SQ_TINY"
fi
# ------------------------------------------------------- the clone tier

PGC=(-h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER")
psql_q() { PGPASSWORD=$BENCH_PW "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "${PGC[@]}" "$@"; }
# The clone snapshot is taken with --always (a changed database costs the
# same: the fingerprint read is one query) and dropped after each round.
c_clone() { (cd "$PROJ" && "${T[@]}" "$DBSNAP" --tier=clone --always >"$OUT"); }
post_clone() {
    local s c
    for s in "$PROJ"/backups/*.pgclone; do
        [ -e "$s" ] || continue
        c=$(sed -n 's/^clone=//p' "$s.meta")
        [ "$s" = "$KEEP_CLONE" ] && continue
        pg_admin postgres "DROP DATABASE IF EXISTS \"$c\"" >/dev/null
        rm -f "$s" "$s.meta"
    done
}
c_pg_null() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/pg_dump" "${PGC[@]}" bench_large >/dev/null; }
c_pg_fc() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/pg_dump" "${PGC[@]}" -Fc bench_large >"$WORK/large.dump"; }
# Restores go into bench_target, made fresh (not timed) before each.
prep_target() { pg_admin postgres "DROP DATABASE IF EXISTS bench_target" >/dev/null; }
prep_target_empty() { prep_target && pg_admin postgres "CREATE DATABASE bench_target" >/dev/null; }
c_restore_clone() {
    (cd "$PROJ" && "${T[@]}" "$DBGUARD_BIN/db-restore" --into=bench_target --confirm=bench_target \
        --no-safety-snap "$KEEP_CLONE")
}
c_psql_load() { zstd -dc "$WORK/large.sql.zst" | PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "${PGC[@]}" bench_target >/dev/null; }
c_pg_restore() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/pg_restore" "${PGC[@]}" -d bench_target "$WORK/large.dump"; }

if want pg; then
    PROJ=$WORK/proj-clone
    mkdir -p "$PROJ"
    printf 'APP_ENV=local\nDATABASE_URL=%s\n' "$(pg_url bench_large)" >"$PROJ/.env"
    KEEP_CLONE=
    KEEP_CLONE=$(cd "$PROJ" && "$DBSNAP" --tier=clone --always) || die "cannot take a clone of bench_large"
    PGPASSWORD=$BENCH_PW "$PG_BIN/pg_dump" "${PGC[@]}" bench_large | zstd -q -3 >"$WORK/large.sql.zst"
    PGPASSWORD=$BENCH_PW "$PG_BIN/pg_dump" "${PGC[@]}" -Fc bench_large >"$WORK/large.dump"

    group_begin clone-snap "PostgreSQL clone tier: snapshot of bench_large ($(fmt_bytes "$(pg_db_size bench_large)")), no other session" "$ROUNDS"
    contender 'db-snap --tier=clone' c_clone --needs="$DBSNAP" --sample=db-snap --post=post_clone
    contender 'pg_dump > /dev/null' c_pg_null
    contender 'pg_dump -Fc > f' c_pg_fc
    group_run
    group_table 'pg_dump > /dev/null'
    target_ratio 'db-snap --tier=clone' 'pg_dump > /dev/null' 0.35
    md ""
    snap_us=${C_MED[$(ci 'db-snap --tier=clone')]:-} fc_us=${C_MED[$(ci 'pg_dump -Fc > f')]:-}
    group_end

    group_begin clone-restore "PostgreSQL clone tier: restore of bench_large" "$ROUNDS"
    contender 'db-restore (clone)' c_restore_clone --needs="$DBGUARD_BIN/db-restore" --prep=prep_target
    contender 'zstd -dc S | psql' c_psql_load --prep=prep_target_empty
    contender 'pg_restore' c_pg_restore --prep=prep_target_empty
    group_run
    group_table 'zstd -dc S | psql'
    target_ratio 'db-restore (clone)' 'zstd -dc S | psql' 0.1
    r_us=${C_MED[$(ci 'db-restore (clone)')]:-} pr_us=${C_MED[$(ci 'pg_restore')]:-}
    if [ -n "$snap_us" ] && [ -n "$fc_us" ] && [ -n "$r_us" ] && [ -n "$pr_us" ]; then
        f=$(ratio $((fc_us + pr_us)) $((snap_us + r_us)))
        check_line "$(awk -v f="$f" 'BEGIN { print (f >= 10 ? "PASS" : "MISS") }')" \
            "snapshot-then-restore cycle ≥ 10 × faster than \`pg_dump -Fc\` + \`pg_restore\`: $f × ($(fmt_us $((snap_us + r_us))) against $(fmt_us $((fc_us + pr_us))))"
    fi
    md ""
    group_end
    prep_target
    KEEP_CLONE=
    post_clone
fi
bench_pg_stop

machine_md
misses_md
results_write instant "instant snapshots: unchanged databases (bench/instant.sh)"
