#!/bin/bash
# snap.sh — db-snap side by side with pg_dump, mariadb-dump and sqlite3's
# .backup on large, mixed and tiny databases (issue 3, "Performance"):
# medians, ratios, output sizes, peak RSS, PASS/MISS per target.  Writes
# the db-snap section of bench/RESULTS.md and keeps its snapshots and the
# pg_dump -Fc dumps in bench/cache/<mode>/snaps/ for bench/restore.sh.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options "$@"
bench_init
G_ROUNDS_TEXT="$ROUNDS timed rounds on the large data sets, $TINY_ROUNDS on the tiny ones, after a warm-up round"

DBSNAP=$DBGUARD_BIN/db-snap
PG_DUMP=$PG_BIN/pg_dump # the version-matched binary, not Debian's wrapper
SNAPS=$CACHE/snaps

# The contenders.  $DB, $SQF and DATABASE_URL are set per group.
c_pg_null() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_DUMP" "${PGC[@]}" "$DB" >/dev/null; }
c_pg_wrapper() { PGPASSWORD=$BENCH_PW "${T[@]}" /usr/bin/pg_dump "${PGC[@]}" "$DB" >/dev/null; }
c_pg_zstd() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_DUMP" "${PGC[@]}" "$DB" | "${T[@]}" zstd -3 -q >"$OUT"; }
c_pg_gzip() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_DUMP" "${PGC[@]}" "$DB" | "${T[@]}" gzip -6 >"$OUT"; }
c_pg_fc() { PGPASSWORD=$BENCH_PW "${T[@]}" "$PG_DUMP" "${PGC[@]}" -Fc "$DB" >"$OUT"; }
c_my_null() { MYSQL_PWD=$BENCH_PW "${T[@]}" mariadb-dump "${MYC[@]}" --single-transaction "$DB" >/dev/null; }
c_my_zstd() {
    MYSQL_PWD=$BENCH_PW "${T[@]}" mariadb-dump "${MYC[@]}" --single-transaction "$DB" |
        "${T[@]}" zstd -3 -q >"$OUT"
}
c_sq_backup() { "${T[@]}" sqlite3 "$SQF" ".backup '$OUT'"; }
c_dbsnap() { "${T[@]}" "$DBSNAP" -q -o "$OUT"; }

dbsnap_contender() { # KEEP-AS
    contender db-snap c_dbsnap --needs="$DBSNAP" --sample=db-snap --keep="$SNAPS/$1"
}

# The size of the plain dump, from the zstd output (not timed).
plain_size() { # LABEL
    local i
    i=$(ci "$1") && [ -f "$G_DIR/out.$i" ] && zstd -dc "$G_DIR/out.$i" | wc -c
}

md "Issue 3 targets: large and mixed PostgreSQL, db-snap ≤ 1.25 × \`pg_dump > /dev/null\` and"
md "faster than \`pg_dump | zstd -3 > f\`; tiny PostgreSQL ≤ 1.5 × \`pg_dump > /dev/null\`;"
md "MariaDB ≤ 1.25 × \`mariadb-dump > /dev/null\`; SQLite ≤ 1.5 × \`.backup\` on the large"
md "file, ≤ 20 ms on the tiny one; snapshot size ≤ 1.1 × zstd -3's; peak RSS < 32 MiB."
md "Peak RSS: GNU time's figure for each process of a pipeline; for db-snap the"
md "largest process of its tree (db-snap or its pg_dump, mariadb-dump), then its own"
md "VmHWM sampled from /proc every 5 ms in another run (\"own\")."
[ "$MODE" = quick ] && md "" && md "**QUICK MODE: small data sets, to check the scripts; these are not the benchmark's numbers.**"
md ""

if want pg; then
    bench_pg_start
    pg_build_large
    pg_build_mixed
    pg_build_tiny
    for set in large mixed tiny; do
        DB=bench_$set
        export DATABASE_URL
        DATABASE_URL=$(pg_url "$DB")
        rounds=$ROUNDS
        [ $set = tiny ] && rounds=$TINY_ROUNDS
        group_begin "pg_$set" "PostgreSQL $set" "$rounds"
        contender 'pg_dump > /dev/null' c_pg_null
        [ $set = tiny ] && contender 'pg_dump > /dev/null (Debian wrapper)' c_pg_wrapper
        contender 'pg_dump | zstd -3 > f' c_pg_zstd
        contender 'pg_dump | gzip -6 > f' c_pg_gzip
        contender 'pg_dump -Fc > f' c_pg_fc --keep="$SNAPS/pg_$set.dump"
        dbsnap_contender "pg_$set.sql.zst"
        group_run
        case $set in
        large) what="pgbench scale $PG_SCALE" ;;
        mixed) what="$MIXED_ROWS mixed rows (text, numbers, timestamps, random strings) + 50000 customers" ;;
        tiny) what="3 tables, 1000 rows, an index and a view" ;;
        esac
        G_TITLE="PostgreSQL $set: $what; database $(fmt_bytes "$(pg_db_size "$DB")"), plain dump $(fmt_bytes "$(plain_size 'pg_dump | zstd -3 > f')")"
        group_table 'pg_dump > /dev/null' 'pg_dump | zstd -3 > f'
        if [ $set = tiny ]; then
            target_ratio db-snap 'pg_dump > /dev/null' 1.5
        else
            target_ratio db-snap 'pg_dump > /dev/null' 1.25
            target_faster db-snap 'pg_dump | zstd -3 > f'
        fi
        target_size db-snap "${C_SIZE[$(ci 'pg_dump | zstd -3 > f')]}" "zstd -3's" 1.1
        target_rss db-snap 32
        group_end
    done
    unset DATABASE_URL
    bench_pg_stop
fi

if want mariadb; then
    bench_my_start
    my_build_large
    my_build_tiny
    for set in large tiny; do
        DB=bench_$set
        export DATABASE_URL
        DATABASE_URL=$(my_url "$DB")
        rounds=$ROUNDS
        [ $set = tiny ] && rounds=$TINY_ROUNDS
        group_begin "my_$set" "MariaDB $set" "$rounds"
        contender 'mariadb-dump --single-transaction > /dev/null' c_my_null
        contender 'mariadb-dump --single-transaction | zstd -3 > f' c_my_zstd
        dbsnap_contender "my_$set.sql.zst"
        group_run
        case $set in
        large) what="$MY_ROWS mixed rows + 50000 customers" ;;
        tiny) what="3 tables, 1000 rows, an index and a view" ;;
        esac
        G_TITLE="MariaDB $set: $what; database $(fmt_bytes "$(my_db_size "$DB")"), plain dump $(fmt_bytes "$(plain_size 'mariadb-dump --single-transaction | zstd -3 > f')")"
        group_table 'mariadb-dump --single-transaction > /dev/null' 'mariadb-dump --single-transaction | zstd -3 > f'
        target_ratio db-snap 'mariadb-dump --single-transaction > /dev/null' 1.25
        target_size db-snap "${C_SIZE[$(ci 'mariadb-dump --single-transaction | zstd -3 > f')]}" "zstd -3's" 1.1
        target_rss db-snap 32
        group_end
    done
    unset DATABASE_URL
    bench_my_stop
fi

if want sqlite; then
    sq_build_large
    sq_build_tiny
    for set in large tiny; do
        SQF=$CACHE/sqlite/$set.sqlite
        export DATABASE_URL="sqlite://$SQF"
        rounds=$ROUNDS
        [ $set = tiny ] && rounds=$TINY_ROUNDS
        group_begin "sqlite_$set" "SQLite $set" "$rounds"
        contender 'sqlite3 DB ".backup f"' c_sq_backup
        dbsnap_contender "sqlite_$set.sqlite.zst"
        group_run
        # The size reference: zstd -3 of the backup (not timed).
        zref=
        i=$(ci 'sqlite3 DB ".backup f"')
        [ -f "$G_DIR/out.$i" ] && zref=$(zstd -3 -q -c "$G_DIR/out.$i" | wc -c)
        case $set in
        large) what="$SQ_ROWS mixed rows + 50000 customers" ;;
        tiny) what="3 tables, 1000 rows, an index and a view" ;;
        esac
        G_TITLE="SQLite $set: $what; file $(fmt_bytes "$(stat -c %s "$SQF")")${zref:+, zstd -3 of it $(fmt_bytes "$zref")}"
        group_table 'sqlite3 DB ".backup f"'
        if [ $set = tiny ]; then
            target_abs db-snap 20000
        else
            target_ratio db-snap 'sqlite3 DB ".backup f"' 1.5
        fi
        target_size db-snap "$zref" "zstd -3 of the file" 1.1
        target_rss db-snap 32
        group_end
    done
    unset DATABASE_URL
fi

machine_md
misses_md
results_write db-snap "db-snap (bench/snap.sh)"
