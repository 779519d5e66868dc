#!/bin/bash
# restore.sh — db-restore --no-safety-snap side by side with the plain
# loads it must keep up with (issue 4, "Performance"): `zstd -dc S | psql`
# and `pg_restore -j2` of a `pg_dump -Fc` dump into an empty database,
# `zstd -dc S | mariadb`, `zstd -dc S > file` for SQLite; medians, ratios,
# and for PostgreSQL the time of the name swap, read from the server log.
# Restores the snapshots bench/snap.sh kept in bench/cache/<mode>/snaps/
# (made here when missing).  Writes the db-restore section of RESULTS.md.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options "$@"
# A load is 3-15 times a dump: fewer rounds by default.
[[ " $* " == *" --rounds="* ]] || ROUNDS=3
bench_init
G_ROUNDS_TEXT="$ROUNDS timed rounds on the large data sets, $TINY_ROUNDS on the tiny ones, after a warm-up round"

DBSNAP=$DBGUARD_BIN/db-snap
DBRESTORE=$DBGUARD_BIN/db-restore
PG_DUMP=$PG_BIN/pg_dump
SNAPS=$CACHE/snaps
TARGET=bench_restored # what db-restore replaces, round after round
LOADDB=bench_load     # the empty database the plain loads fill
MANUALDB=bench_manual # replaced by hand: dropped, created, loaded

# The contenders.  $S (snapshot), $D (pg_dump -Fc dump), $CONFIRM and
# DATABASE_URL (db-restore's target) are set per group.
c_pg_psql() {
    "${T[@]}" zstd -dc "$S" |
        PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "${PGC[@]}" -d "$LOADDB" >/dev/null
}
# The whole manual replacement, for comparison: drop, create, load.
c_pg_manual() {
    PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/dropdb" "${PGC[@]}" --if-exists "$MANUALDB" &&
        PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/createdb" "${PGC[@]}" "$MANUALDB" &&
        "${T[@]}" zstd -dc "$S" |
        PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "${PGC[@]}" -d "$MANUALDB" >/dev/null
}
c_pg_restore() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_BIN/pg_restore" "${PGC[@]}" -j2 -d "$LOADDB" "$D"; }
c_my_load() {
    "${T[@]}" zstd -dc "$S" | MYSQL_PWD=$BENCH_PW "${T[@]}" mariadb "${MYC[@]}" "$LOADDB"
}
c_my_manual() {
    MYSQL_PWD=$BENCH_PW "${T[@]}" mariadb "${MYC[@]}" -e "DROP DATABASE IF EXISTS $MANUALDB; CREATE DATABASE $MANUALDB" &&
        "${T[@]}" zstd -dc "$S" | MYSQL_PWD=$BENCH_PW "${T[@]}" mariadb "${MYC[@]}" "$MANUALDB"
}
c_sq_load() { "${T[@]}" zstd -dc "$S" >"$G_DIR/load.sqlite"; }
c_dbrestore() { "${T[@]}" "$DBRESTORE" -q --no-safety-snap --confirm="$CONFIRM" "$S"; }

# Set-up and clean-up around each run (not timed).
prep_pg_load() {
    pg_admin postgres "DROP DATABASE IF EXISTS $LOADDB" && pg_admin postgres "CREATE DATABASE $LOADDB"
}
prep_pg_target() {
    [ -n "$(pg_admin postgres "SELECT 1 FROM pg_database WHERE datname = '$TARGET'")" ] ||
        pg_admin postgres "CREATE DATABASE $TARGET"
    LOG_OFF=$(stat -c %s "$PG_LOG")
}
post_pg_target() {
    local ms
    [ "$PHASE" = timed ] || return 0
    ms=$(swap_ms "$PG_LOG" "$LOG_OFF")
    [ -n "$ms" ] && SWAPS+="$ms "
}
prep_my_load() { my_admin "" "DROP DATABASE IF EXISTS $LOADDB; CREATE DATABASE $LOADDB"; }
prep_my_target() { my_admin "" "CREATE DATABASE IF NOT EXISTS $TARGET"; }
prep_sq_load() { rm -f "$G_DIR/load.sqlite"; }
# An empty file is an empty SQLite database: the first run replaces that.
prep_sq_target() { [ -f "$G_DIR/$TARGET.sqlite" ] || : >"$G_DIR/$TARGET.sqlite"; }

# The swap as the server saw it, in ms: from the first ALTER DATABASE ...
# RENAME (or the BEGIN of its transaction) to the COMMIT of that
# transaction, or to the last of the consecutive renames outside one.
# Statements are logged with their duration (log_min_duration_statement=0)
# at their end.
swap_ms() { # LOG OFFSET
    tail -c +"$(($2 + 1))" "$1" | awk '
    function ms(t, a) { split(t, a, ":"); return a[1] * 3600000 + a[2] * 60000 + a[3] * 1000 }
    $5 != "LOG:" || $6 != "duration:" || $9 == "parse" || $9 == "bind" { next }
    {
        end = ms($2); dur = $7; pid = $4
        s = $0; sub(/^.*(statement|execute [^:]*): /, "", s); s = toupper(s)
        ren = s ~ /ALTER DATABASE .* RENAME TO/
    }
    !found {
        if (ren) {
            found = 1; P = pid; last = end
            start = intx[pid] ? begin[pid] : end - dur
            if (s ~ /;/) done = 1       # the whole swap in one query string
        } else if (s ~ /^(BEGIN|START TRANSACTION)/) {
            intx[pid] = 1; begin[pid] = end - dur
        } else if (s ~ /^(COMMIT|END|ROLLBACK|ABORT)/) {
            intx[pid] = 0
        }
        next
    }
    done || pid != P { next }
    intx[P] { last = end; if (s ~ /^(COMMIT|END|ROLLBACK|ABORT)/) done = 1; next }
    ren { last = end; next }
    { done = 1 }
    END { if (found) printf "%.1f\n", last - start }'
}

# The inputs snap.sh keeps; made here (not timed) when it has not run.
ensure_snapshot() { # KIND(pg|my|sqlite) DBNAME-or-FILE
    local url
    # a cached snapshot counts only with sealed metadata (older ones are refused)
    [ -f "$S" ] && [ -f "$S.meta" ] && grep -q '^meta_sha256=' "$S.meta" && return 0
    case $1 in
    pg) url=$(pg_url "$2") ;;
    my) url=$(my_url "$2") ;;
    sqlite) url="sqlite://$2" ;;
    esac
    [ -x "$DBSNAP" ] || { note "no snapshot $S and no $DBSNAP to take it"; return 1; }
    note "taking the snapshot $S (run snap.sh to have it from the benchmark)"
    DATABASE_URL=$url "$DBSNAP" -q -o "$S" >/dev/null
}

ensure_dump() { # DBNAME
    [ -f "$D" ] && return 0
    note "making the pg_dump -Fc dump $D"
    PGPASSWORD=$BENCH_PW "$PG_DUMP" "${PGC[@]}" -Fc "$1" >"$D.tmp" && mv "$D.tmp" "$D"
}

swap_line() {
    local v med max
    v=$(printf '%s\n' $SWAPS)
    if [ -z "$SWAPS" ]; then
        md "- n/a the name swap under a second: no ALTER DATABASE ... RENAME in the server log"
        return
    fi
    med=$(sort -n <<<"$v" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
    max=$(sort -n <<<"$v" | tail -n 1)
    check_line "$(awk -v m="$max" 'BEGIN { print (m < 1000 ? "PASS" : "MISS") }')" \
        "the name swap under a second: median $med ms, longest $max ms (server log, ALTER DATABASE … RENAME to COMMIT)"
}

md "Issue 4 targets: db-restore --no-safety-snap ≤ 1.15 × the plain load (\`zstd -dc S | psql\`,"
md "\`| mariadb\`, \`> file\`) on every engine and size, and the PostgreSQL name swap under a"
md "second.  db-restore verifies the snapshot first (SHA-256, a full decompression), loads"
md "into a scratch database (a temporary file for SQLite), compares every table's row"
md "count, swaps, and drops the replaced database: all of it is in its time.  Plain loads"
md "go into an empty database created beforehand, not timed; db-restore replaces a"
md "database that holds the previous round's restore, and so does the manual"
md "drop-create-load shown for comparison (all of it timed).  The swap is timed"
md "from the server log, whose timestamps have a 1 ms resolution."
[ "$MODE" = quick ] && md "" && md "**QUICK MODE: small data sets, to check the scripts; these are not the benchmark's numbers.**"
md ""
[ -x "$DBRESTORE" ] || md "db-restore does not exist yet ($DBRESTORE): only the plain loads are measured."

if want pg; then
    bench_pg_start -c log_min_duration_statement=0 -c "log_line_prefix=%m [%p] "
    pg_build_large
    pg_build_mixed
    pg_build_tiny
    export DATABASE_URL
    DATABASE_URL=$(pg_url "$TARGET")
    CONFIRM=$TARGET
    for set in large mixed tiny; do
        S=$SNAPS/pg_$set.sql.zst D=$SNAPS/pg_$set.dump SWAPS=
        rounds=$ROUNDS
        [ $set = tiny ] && rounds=$TINY_ROUNDS
        group_begin "pg_$set" "PostgreSQL $set" "$rounds"
        ensure_snapshot pg "bench_$set" || S=/nonexistent
        ensure_dump "bench_$set" || D=/nonexistent
        contender 'zstd -dc S | psql' c_pg_psql --input="$S" --prep=prep_pg_load
        contender 'pg_restore -j2 (pg_dump -Fc)' c_pg_restore --input="$D" --prep=prep_pg_load
        contender 'dropdb; createdb; zstd -dc S | psql' c_pg_manual --input="$S"
        [ -f "$S" ] && contender 'db-restore --no-safety-snap S' c_dbrestore --needs="$DBRESTORE" \
            --sample=db-restore --prep=prep_pg_target --post=post_pg_target
        group_run
        G_TITLE="PostgreSQL $set: bench_$set restored; snapshot $(fmt_bytes "$(stat -c %s "$S" 2>/dev/null || echo 0)"), database $(fmt_bytes "$(pg_db_size "bench_$set")")"
        group_table 'zstd -dc S | psql'
        target_ratio 'db-restore --no-safety-snap S' 'zstd -dc S | psql' 1.15
        [ -x "$DBRESTORE" ] && swap_line
        group_end
    done
    pg_admin postgres "DROP DATABASE IF EXISTS $LOADDB" >/dev/null
    pg_admin postgres "DROP DATABASE IF EXISTS $TARGET" >/dev/null
    pg_admin postgres "DROP DATABASE IF EXISTS $MANUALDB" >/dev/null
    unset DATABASE_URL
    bench_pg_stop
fi

if want mariadb; then
    bench_my_start
    my_build_large
    my_build_tiny
    export DATABASE_URL
    DATABASE_URL=$(my_url "$TARGET")
    CONFIRM=$TARGET
    for set in large tiny; do
        S=$SNAPS/my_$set.sql.zst
        rounds=$ROUNDS
        [ $set = tiny ] && rounds=$TINY_ROUNDS
        group_begin "my_$set" "MariaDB $set" "$rounds"
        ensure_snapshot my "bench_$set" || S=/nonexistent
        contender 'zstd -dc S | mariadb' c_my_load --input="$S" --prep=prep_my_load
        # (Left out on the large set: the load is all of it there, and slow.)
        [ $set = tiny ] && contender 'DROP, CREATE DATABASE; zstd -dc S | mariadb' c_my_manual --input="$S"
        [ -f "$S" ] && contender 'db-restore --no-safety-snap S' c_dbrestore --needs="$DBRESTORE" \
            --sample=db-restore --prep=prep_my_target
        group_run
        G_TITLE="MariaDB $set: bench_$set restored; snapshot $(fmt_bytes "$(stat -c %s "$S" 2>/dev/null || echo 0)"), database $(fmt_bytes "$(my_db_size "bench_$set")")"
        group_table 'zstd -dc S | mariadb'
        target_ratio 'db-restore --no-safety-snap S' 'zstd -dc S | mariadb' 1.15
        group_end
    done
    my_admin "" "DROP DATABASE IF EXISTS $LOADDB; DROP DATABASE IF EXISTS $TARGET; DROP DATABASE IF EXISTS $MANUALDB"
    unset DATABASE_URL
    bench_my_stop
fi

if want sqlite; then
    sq_build_large
    sq_build_tiny
    CONFIRM=$TARGET.sqlite
    for set in large tiny; do
        S=$SNAPS/sqlite_$set.sqlite.zst
        rounds=$ROUNDS
        [ $set = tiny ] && rounds=$TINY_ROUNDS
        group_begin "sqlite_$set" "SQLite $set" "$rounds"
        export DATABASE_URL="sqlite://$G_DIR/$TARGET.sqlite"
        ensure_snapshot sqlite "$CACHE/sqlite/$set.sqlite" || S=/nonexistent
        contender 'zstd -dc S > file' c_sq_load --input="$S" --prep=prep_sq_load
        [ -f "$S" ] && contender 'db-restore --no-safety-snap S' c_dbrestore --needs="$DBRESTORE" \
            --sample=db-restore --prep=prep_sq_target
        group_run
        G_TITLE="SQLite $set: $set.sqlite restored; snapshot $(fmt_bytes "$(stat -c %s "$S" 2>/dev/null || echo 0)"), file $(fmt_bytes "$(stat -c %s "$CACHE/sqlite/$set.sqlite")")"
        group_table 'zstd -dc S > file'
        target_ratio 'db-restore --no-safety-snap S' 'zstd -dc S > file' 1.15
        group_end
    done
    unset DATABASE_URL
fi

machine_md
misses_md
results_write db-restore "db-restore (bench/restore.sh)"
