#!/bin/bash
# laravel.sh — the case issue 14 opens with: a Laravel project whose tests
# run on an in-memory SQLite database (phpunit.xml) while its .env names a
# 300 MB development database that the tests never touch.  safe-run
# snapshots every database configured for the run, so the development one
# too: unchanged, it must cost ≤ 50 ms and 0 bytes per `safe-run php
# artisan test`.  `php` is a stand-in script that exits 0 (what is measured
# is what safe-run adds to the command, whatever the command does); it is
# put first on PATH for both contenders.  The development database is the
# first 300 MB of the SQLite data set.  Writes the "laravel" section of
# RESULTS.md.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options "$@"
bench_init
G_ROUNDS_TEXT="$TINY_ROUNDS timed rounds after a warm-up round"

SAFERUN=$DBGUARD_BIN/safe-run
sq_build_large
PROJ=$WORK/shop
mkdir -p "$PROJ/database" "$WORK/fakebin"
DEV=$PROJ/database/database.sqlite
# About 300 MB in full mode (a proportional share in quick mode).
rows=$((SQ_ROWS * 3 / 10))
sqlite3 -batch -bail "$DEV" >/dev/null <<EOF || die "cannot build the development database"
PRAGMA journal_mode = OFF;
ATTACH '$SQ_LARGE' AS big;
CREATE TABLE customers AS SELECT * FROM big.customers;
CREATE TABLE events AS SELECT * FROM big.events WHERE id <= $rows;
EOF
printf '#!/bin/sh\nexit 0\n' >"$WORK/fakebin/php"
chmod +x "$WORK/fakebin/php"
cat >"$PROJ/.env" <<EOF
APP_ENV=local
DB_CONNECTION=sqlite
DB_DATABASE=database/database.sqlite
EOF
cat >"$PROJ/phpunit.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<phpunit>
    <php>
        <env name="APP_ENV" value="testing"/>
        <env name="DB_CONNECTION" value="sqlite"/>
        <env name="DB_DATABASE" value=":memory:"/>
    </php>
</phpunit>
EOF
touch "$PROJ/artisan"
export PATH=$WORK/fakebin:$PATH
cd "$PROJ" || die "cannot enter '$PROJ'"
# The first run snapshots the development database; a file just written
# proves nothing for a second, so wait until a run reuses it.
"$SAFERUN" php artisan test >/dev/null 2>&1 || die "safe-run php artisan test failed"
for ((i = 0; i < 50; i++)); do
    before=$(find backups -maxdepth 1 -name '*.meta' | wc -l)
    "$SAFERUN" php artisan test >/dev/null 2>&1
    [ "$(find backups -maxdepth 1 -name '*.meta' | wc -l)" = "$before" ] && break
    sleep 0.2
done
store_bytes() { du -sb "$PROJ/backups" --exclude=journal | cut -f1; }
before=$(store_bytes)

c_php() { "${T[@]}" php artisan test; }
c_saferun() { "${T[@]}" "$SAFERUN" php artisan test; }

md "Issue 14 target: in a Laravel project whose tests use an in-memory SQLite database"
md "(phpunit.xml) and whose .env names a $(fmt_bytes "$(stat -c %s "$DEV")") development database, \`safe-run php artisan"
md "test\` adds ≤ 50 ms and 0 bytes when the development database is unchanged."
md "\`php\` is a stand-in that exits 0: the time measured is what safe-run adds."
[ "$MODE" = quick ] && md "" && md "**QUICK MODE: to check the script; small data, fewer rounds.**"
md ""
group_begin laravel "Laravel: dev database $(fmt_bytes "$(stat -c %s "$DEV")") unchanged, tests in memory" "$TINY_ROUNDS"
contender 'php artisan test' c_php
contender 'safe-run php artisan test' c_saferun --needs="$SAFERUN" --sample=safe-run
group_run
after=$(store_bytes)
group_table 'php artisan test'
a=$(ci 'safe-run php artisan test') p=$(ci 'php artisan test')
if [ -n "${C_MED[a]}" ] && [ -n "${C_MED[p]}" ]; then
    added=$((C_MED[a] - C_MED[p]))
    check_line "$( ((added <= 50000)) && echo PASS || echo MISS)" \
        "time added by \`safe-run\` ≤ 50 ms: $(fmt_us "$added")"
fi
check_line "$( ((after == before)) && echo PASS || echo MISS)" \
    "bytes added to the store (journal aside) over all rounds: $((after - before))"
md ""
group_end

machine_md
misses_md
results_write laravel "the Laravel case (bench/laravel.sh)"
