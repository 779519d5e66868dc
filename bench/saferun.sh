#!/bin/bash
# saferun.sh — what safe-run adds to a command (issue 5, item 10): on a tiny
# local PostgreSQL database, `safe-run true` (checks, snapshot, journal)
# side by side with the bare `true` and with `pg_dump` of that database.
# Target: the added time ≤ 1.5 × pg_dump's.  The two steps safe-run runs
# as children, db-envcheck --ping and db-snap, are timed alone as well, to
# show where the time goes.  Writes the safe-run section of RESULTS.md.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options "$@"
bench_init
G_ROUNDS_TEXT="$TINY_ROUNDS timed rounds after a warm-up round"

SAFERUN=$DBGUARD_BIN/safe-run
DBSNAP=$DBGUARD_BIN/db-snap
ENVCHECK=$DBGUARD_BIN/db-envcheck
PG_DUMP=$PG_BIN/pg_dump
TRUE_BIN=$(type -P true) # the program, as safe-run runs it, not the builtin
DB=bench_tiny

# The contenders run in the project directory $PROJ, whose .env names the
# database, as a user's project would.
c_true() { "${T[@]}" "$TRUE_BIN"; }
c_saferun() { "${T[@]}" "$SAFERUN" true; }
c_envcheck() { "${T[@]}" "$ENVCHECK" --format=tsv --ping; }
c_dbsnap() { "${T[@]}" "$DBSNAP" --reason "safe-run: true"; }
c_pg_null() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_DUMP" "${PGC[@]}" "$DB" >/dev/null; }

# Each run leaves a snapshot in the store: remove it (not timed), so every
# round meets the same store, the journal growing as it would.
post_store() { find "$PROJ/backups" -maxdepth 1 -name "${DB}_*" -delete 2>/dev/null; }

md "Issue 5 target: the time safe-run adds to a command (checks, snapshot, journal) on a"
md "tiny local database ≤ 1.5 × the time of \`pg_dump\` of that database.  Added time ="
md "median of \`safe-run true\` − median of \`true\`.  The database is named in the"
md "project's .env (DATABASE_URL, loopback, password); the snapshot goes to the"
md "project's store."
[ "$MODE" = quick ] && md "" && md "**QUICK MODE: to check the script; the data set is the same tiny one, but fewer rounds.**"
md ""

if want pg; then
    bench_pg_start
    pg_build_tiny
    PROJ=$WORK/proj
    mkdir -p "$PROJ"
    printf 'APP_ENV=local\nDATABASE_URL=%s\n' "$(pg_url "$DB")" >"$PROJ/.env"
    cd "$PROJ" || die "cannot enter '$PROJ'"
    group_begin saferun "safe-run on PostgreSQL tiny" "$TINY_ROUNDS"
    contender true c_true
    contender 'safe-run true' c_saferun --needs="$SAFERUN" --sample=safe-run --post=post_store
    contender 'pg_dump > /dev/null' c_pg_null
    contender 'db-envcheck --format=tsv --ping' c_envcheck --needs="$ENVCHECK"
    contender 'db-snap --reason …' c_dbsnap --needs="$DBSNAP" --post=post_store
    group_run
    cd "$WORK/cwd" || die "cannot enter '$WORK/cwd'"
    G_TITLE="safe-run on PostgreSQL tiny: 3 tables, 1000 rows; database $(fmt_bytes "$(pg_db_size "$DB")")"
    group_table 'pg_dump > /dev/null'
    a=$(ci 'safe-run true') t=$(ci true) p=$(ci 'pg_dump > /dev/null')
    if [ -n "${C_MED[a]}" ] && [ -n "${C_MED[t]}" ] && [ -n "${C_MED[p]}" ]; then
        added=$((C_MED[a] - C_MED[t]))
        r=$(ratio "$added" "${C_MED[p]}")
        check_line "$(awk -v r="$r" 'BEGIN { print (r <= 1.5 ? "PASS" : "MISS") }')" \
            "time added by \`safe-run\` ≤ 1.5 × \`pg_dump > /dev/null\`: $r × ($(fmt_us "$added") added, pg_dump $(fmt_us "${C_MED[p]}"))"
    else
        md "- n/a time added by \`safe-run\` ≤ 1.5 × \`pg_dump > /dev/null\`: not measured"
    fi
    e=$(ci 'db-envcheck --format=tsv --ping') s=$(ci 'db-snap --reason …')
    if [ -n "${C_MED[a]}" ] && [ -n "${C_MED[e]}" ] && [ -n "${C_MED[s]}" ]; then
        own=$((C_MED[a] - C_MED[e] - C_MED[s] - C_MED[t]))
        if ((own > 0)); then own=$(fmt_us $own); else own="none measurable (medians of separate runs)"; fi
        md "- where it goes: db-envcheck --ping $(fmt_us "${C_MED[e]}"), db-snap $(fmt_us "${C_MED[s]}"); safe-run's own share (start, journal, waiting) $own"
    fi
    md ""
    group_end
    bench_pg_stop
fi

machine_md
misses_md
results_write safe-run "safe-run (bench/saferun.sh)"
