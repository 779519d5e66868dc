# lib.sh — shared by bench/snap.sh, restore.sh and saferun.sh: options, the
# data sets (built once, cached in bench/cache/<mode>/), PostgreSQL and
# MariaDB servers on loopback (t/helpers/servers.bash's own, on data
# directories that persist between runs), timing with
# medians, peak RSS, and the sections of bench/RESULTS.md.
#
# Benchmarks, not tests: nothing here is part of `make check`.

set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
DBGUARD_BIN=${DBGUARD_BIN:-$REPO/bin}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PROG=${0##*/}
# Our own servers, on 127.0.0.1 only; the password still stays out of argv.
BENCH_USER=bench
BENCH_PW=bench-pw-1
export LC_ALL=C LANG=C
unset LANGUAGE

# Nothing of the caller's may pick a database or a policy for the programs
# measured (the same scrub as t/helpers/common.bash).
while read -r _v; do
    case $_v in
    DBGUARD_BIN | PG_BIN) ;;
    DATABASE_URL | DB_* | DBGUARD_* | PG* | MYSQL_* | MARIADB_*) unset "$_v" ;;
    esac
done < <(compgen -e)
unset _v APP_ENV NODE_ENV RAILS_ENV RACK_ENV ENVIRONMENT DJANGO_ENV DJANGO_SETTINGS_MODULE \
    XDG_CONFIG_HOME NO_COLOR

note() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    note "$*"
    exit 1
}

# ------------------------------------------------------------------ options

bench_usage() {
    cat <<EOF
usage: $PROG [--quick] [--rounds=N] [--tiny-rounds=N] [--only=ENGINES] [--results=FILE]

  --quick          small data sets (also SCALE=small): checks the script in a
                   minute or two; the numbers mean little
  --rounds=N       timed rounds on the large data sets (median of N)
  --tiny-rounds=N  timed rounds on the tiny ones
  --only=ENGINES   comma-separated subset of: pg, mariadb, sqlite
  --results=FILE   where to write the results section (default
                   bench/RESULTS.md; bench/cache/quick/RESULTS.md with --quick)

Data sets are built once and kept in bench/cache/<mode>/ (git-ignored);
remove that directory to rebuild them.
EOF
}

bench_options() {
    MODE=full
    [ "${SCALE:-}" = small ] && MODE=quick
    ROUNDS= TINY_ROUNDS= ONLY=pg,mariadb,sqlite RESULTS=
    while [ $# -gt 0 ]; do
        case $1 in
        --quick) MODE=quick ;;
        --full) MODE=full ;;
        --rounds=*) ROUNDS=${1#*=} ;;
        --tiny-rounds=*) TINY_ROUNDS=${1#*=} ;;
        --only=*) ONLY=${1#*=} ;;
        --results=*) RESULTS=${1#*=} ;;
        -h | --help)
            bench_usage
            exit 0
            ;;
        *)
            note "unknown option '$1'"
            bench_usage >&2
            exit 2
            ;;
        esac
        shift
    done
    case ${ROUNDS:-1}${TINY_ROUNDS:-1} in *[!0-9]*) die "--rounds and --tiny-rounds take a number" ;; esac
    # Sizes: the issue's "~1 GB" in full mode (pgbench scale 70 is 1.0 GB;
    # 2.5M and 3.4M rows of the mixed table make about 1 GB in InnoDB and
    # SQLite); a few MB in quick mode.
    if [ "$MODE" = full ]; then
        PG_SCALE=70 MIXED_ROWS=1000000 MY_ROWS=2500000 SQ_ROWS=3400000
        : "${ROUNDS:=5}" "${TINY_ROUNDS:=21}"
    else
        PG_SCALE=2 MIXED_ROWS=20000 MY_ROWS=20000 SQ_ROWS=30000
        : "${ROUNDS:=3}" "${TINY_ROUNDS:=7}"
    fi
    CACHE=$BENCH_DIR/cache/$MODE
    if [ -z "$RESULTS" ]; then
        RESULTS=$BENCH_DIR/RESULTS.md
        [ "$MODE" = quick ] && RESULTS=$CACHE/RESULTS.md
    fi
    mkdir -p "$CACHE" "$CACHE/snaps" || die "cannot create '$CACHE'"
}

want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

# ------------------------------------------------------------ work and trap

# Outputs of the commands measured go to a scratch directory, removed on
# exit; the servers we started are stopped on exit, Ctrl-C included.
bench_init() {
    WORK=$(mktemp -d /tmp/dbguard-bench.XXXXXX) || die "cannot create a scratch directory"
    chmod 755 "$WORK"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    # No ~/.config/dbguard, ~/.pgpass, ~/.my.cnf or ~/.psqlrc of the caller.
    mkdir -p "$WORK/home" "$WORK/cwd"
    export HOME=$WORK/home
    # db-restore and db-snap keep things in the store of the current
    # directory (backups/): a scratch one, not the caller's.
    case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac
    cd "$WORK/cwd" || die "cannot enter '$WORK/cwd'"
    mkfifo "$WORK/tick" && exec {TICK_FD}<>"$WORK/tick"
    GNU_TIME=
    if /usr/bin/time --version 2>&1 | grep -q GNU; then
        GNU_TIME=/usr/bin/time
    else
        note "GNU time is not installed (apt-get install time): peak RSS of the anchor commands is not measured"
    fi
    LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
    MD=$WORK/section.md MDH=$WORK/head.md
    : >"$MD"
    : >"$MDH"
}

bench_cleanup() {
    trap - INT TERM HUP
    [ -n "${MY_PID:-}" ] && bench_my_stop
    [ -n "${PG_PID:-}" ] && bench_pg_stop
    [ -n "${WORK:-}" ] && case $WORK in /tmp/dbguard-bench.*) rm -rf "$WORK" ;; esac
    return 0
}

# sleep without a fork: a read that times out on a FIFO nobody writes to.
tick() { read -r -t "$1" -u "$TICK_FD" _ || :; }

# ----------------------------------------------------------------- servers

# The servers are the tests' own (t/helpers/servers.bash), on data
# directories under $CACHE that persist between runs, so a data set is
# built once.  The password stays out of argv and out of our environment:
# each measured command gets it (PGPASSWORD, MYSQL_PWD) on its own.
DBG_DB_USER=$BENCH_USER DBG_PG_PASSWORD=$BENCH_PW DBG_MY_PASSWORD=$BENCH_PW DBG_START_TIMEOUT=120
# shellcheck source=../t/helpers/servers.bash
. "$REPO/t/helpers/servers.bash"

unset_client_env() {
    unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PG_URL
    unset MY_HOST MY_USER MY_PASSWORD MY_DATABASE MY_URL
}

# PostgreSQL 15 on 127.0.0.1:<free port>, data in $CACHE/pg/data, with the
# shared buffers at their default size.  Password (SCRAM) on TCP, which is
# what the measured commands use; trust on the socket, which only the set-up
# uses.  Extra "-c name=value" options may be given.
bench_pg_start() {
    mkdir -p "$CACHE/pg"
    [ -f "$CACHE/pg/data/PG_VERSION" ] || { note "initdb in $CACHE/pg/data"; rm -f "$CACHE/pg"/built.*; }
    DBG_PG_DATA=$CACHE/pg/data pg_start -c shared_buffers=128MB -c log_timezone=UTC "$@" ||
        die "PostgreSQL did not start"
    PG_PORT=$PGPORT PG_SOCK=$PG_SOCKET_DIR PG_LOG=$PG_DIR/server.log
    unset_client_env
    # For the measured clients: TCP and a password, as db-snap connects.
    PGC=(-h 127.0.0.1 -p "$PG_PORT" -U "$BENCH_USER")
    PG_VERSION=$(pg_admin postgres "SHOW server_version")
}

bench_pg_stop() { DBG_PG_DATA=$CACHE/pg/data pg_stop; }

pg_admin() { # DB SQL: set-up through the socket, rows on stdout
    PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U "$BENCH_USER" \
        -d "$1" -c "$2"
}

pg_url() { echo "postgres://$BENCH_USER:$BENCH_PW@127.0.0.1:$PG_PORT/$1"; }

# MariaDB on 127.0.0.1:<free port>, data in $CACHE/my/data; the buffer
# pool at its default size, durability off as in the tests.
bench_my_start() {
    mkdir -p "$CACHE/my"
    [ -d "$CACHE/my/data/mysql" ] || { note "mariadb-install-db in $CACHE/my/data"; rm -f "$CACHE/my"/built.*; }
    DBG_MY_DATA=$CACHE/my/data mariadb_start --innodb-buffer-pool-size=128M \
        --innodb-log-file-size=256M || die "MariaDB did not start"
    MY_SOCK=$MY_SOCKET
    unset_client_env
    # The measured clients: TCP and a password (in MYSQL_PWD on each
    # command), as db-snap connects.
    MYC=(--no-defaults -h 127.0.0.1 -P "$MY_PORT" -u "$BENCH_USER")
    MY_VERSION=$(my_admin "" "SELECT VERSION()")
}

bench_my_stop() { DBG_MY_DATA=$CACHE/my/data mariadb_stop; }

my_admin() { # DB SQL: set-up through the socket, rows on stdout
    MYSQL_PWD=$BENCH_PW mariadb --no-defaults -S "$MY_SOCK" -u "$BENCH_USER" -N -B -e "$2" ${1:+"$1"}
}

my_url() { echo "mysql://$BENCH_USER:$BENCH_PW@127.0.0.1:$MY_PORT/$1"; }


# ---------------------------------------------------------------- data sets

# A data set is rebuilt when its marker (parameters it was built with) is
# missing or different.
built() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }

# The tiny schema, the same on every engine: 300 users, 200 products, 500
# orders, an index and a view.  $1: pg, my or sqlite (only the timestamp
# type differs).
tiny_sql() {
    local ts=TIMESTAMP
    [ "$1" = my ] && ts=DATETIME
    cat <<EOF
CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) UNIQUE, created_at $ts);
CREATE TABLE products (id INTEGER PRIMARY KEY, title VARCHAR(200) NOT NULL, price NUMERIC(10,2));
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), product_id INTEGER REFERENCES products(id), qty INTEGER, placed_at $ts);
CREATE INDEX orders_user ON orders(user_id);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE qty > 5;
BEGIN;
EOF
    awk 'BEGIN {
        srand(42)
        split("ada brian chen dora emil fay gus hana ivan jun kira lev mona nils olga paz quin rosa sven tara", n, " ")
        split("lamp chair desk mug pen book cable mouse plant clock", p, " ")
        for (i = 1; i <= 300; i++)
            printf "INSERT INTO users VALUES (%d, %c%s %d%c, %cuser%d@example.org%c, %c2023-%02d-%02d %02d:%02d:%02d%c);\n",
                i, 39, n[1 + int(rand() * 20)], i, 39, 39, i, 39, 39, 1 + int(rand() * 12),
                1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60), 39
        for (i = 1; i <= 200; i++)
            printf "INSERT INTO products VALUES (%d, %c%s model %d%c, %.2f);\n",
                i, 39, p[1 + int(rand() * 10)], i, 39, rand() * 200
        for (i = 1; i <= 500; i++)
            printf "INSERT INTO orders VALUES (%d, %d, %d, %d, %c2024-%02d-%02d %02d:%02d:%02d%c);\n",
                i, 1 + int(rand() * 300), 1 + int(rand() * 200), 1 + int(rand() * 10), 39,
                1 + int(rand() * 12), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60),
                int(rand() * 60), 39
    }'
    echo "COMMIT;"
}

# Words for the text columns of the mixed tables.
WORDS="order payment invoice customer shipped delayed refund review account
profile session update delete create report monthly weekly daily total
balance credit debit transfer pending failed success retry timeout error
warning notice admin support ticket priority normal urgent closed opened
archived"

pg_build_large() {
    local m=$CACHE/pg/built.bench_large v="pgbench scale=$PG_SCALE"
    built "$m" "$v" && return 0
    note "building PostgreSQL bench_large: pgbench -i -s $PG_SCALE"
    pg_admin postgres "DROP DATABASE IF EXISTS bench_large" >/dev/null &&
        pg_admin postgres "CREATE DATABASE bench_large" >/dev/null &&
        "$PG_BIN/pgbench" -i -q -s "$PG_SCALE" -h "$PG_SOCK" -p "$PG_PORT" -U "$BENCH_USER" \
            bench_large >"$WORK/build.log" 2>&1 &&
        pg_settle bench_large || { tail -n 20 "$WORK/build.log" >&2; die "cannot build bench_large"; }
    echo "$v" >"$m"
}

# Freeze (hint bits set now, not by the first pg_dump), then checkpoint, so
# no round pays for the load.
pg_settle() {
    pg_admin "$1" "VACUUM (FREEZE, ANALYZE)" >/dev/null && pg_admin "$1" "CHECKPOINT" >/dev/null
}

# Realistic, poorly compressible rows, as an application's events table
# holds them: ids, amounts, scores, timestamps with microseconds, e-mail
# addresses, random UUIDs, IP addresses, URL paths, a small JSON object
# with a random session id, and 5 to 24 words of text.  zstd -3 keeps
# about a third of the dump.  (A first version with 128 random base64
# characters per row kept 61%; nothing an application stores looks like
# that on every row.)
MIXED_VERSION=v2
pg_build_mixed() {
    local m=$CACHE/pg/built.bench_mixed v="mixed $MIXED_VERSION rows=$MIXED_ROWS" words
    built "$m" "$v" && return 0
    note "building PostgreSQL bench_mixed: $MIXED_ROWS rows"
    words="ARRAY['$(echo $WORDS | sed "s/ /','/g")']"
    pg_admin postgres "DROP DATABASE IF EXISTS bench_mixed" >/dev/null &&
        pg_admin postgres "CREATE DATABASE bench_mixed" >/dev/null &&
        "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U "$BENCH_USER" \
            -d bench_mixed >"$WORK/build.log" 2>&1 <<EOF &&
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, country char(2), signed_up date);
INSERT INTO customers
SELECT g, initcap(md5(g::text)), (ARRAY['DE','FR','US','GB','BR','IN','JP','NG'])[1 + g % 8],
       date '2015-01-01' + (random() * 3000)::int
FROM generate_series(1, 50000) g;
CREATE TABLE events (
    id bigint PRIMARY KEY,
    customer_id integer NOT NULL,
    kind text NOT NULL,
    amount numeric(12,2),
    score integer,
    created_at timestamptz NOT NULL,
    email text,
    uuid uuid NOT NULL,
    status text,
    ip text,
    path text,
    attrs jsonb,
    note text
);
INSERT INTO events
SELECT g,
       1 + (random() * 49999)::int,
       (ARRAY['click','view','purchase','signup','refund','login','logout','search'])[1 + floor(random() * 8)::int],
       round((random() * 5000)::numeric, 2),
       (random() * 100)::int,
       timestamptz '2021-01-01 00:00:00+00' + random() * interval '1000 days',
       'user' || (random() * 1e7)::bigint || '@' || (ARRAY['example.com','mail.org','corp.net','inbox.io'])[1 + floor(random() * 4)::int],
       gen_random_uuid(),
       (ARRAY['new','paid','shipped','delivered','cancelled'])[1 + floor(random() * 5)::int],
       '10.' || (random() * 255)::int || '.' || (random() * 255)::int || '.' || (random() * 255)::int,
       '/products/' || (random() * 100000)::int || '?ref=' || (ARRAY['mail','ads','search','direct'])[1 + floor(random() * 4)::int],
       jsonb_build_object('browser', (ARRAY['firefox','chrome','safari','edge'])[1 + floor(random() * 4)::int],
                          'os', (ARRAY['linux','windows','macos','android','ios'])[1 + floor(random() * 5)::int],
                          'lang', (ARRAY['en','de','fr','es','pt','ja'])[1 + floor(random() * 6)::int],
                          'session', md5(random()::text)),
       (SELECT string_agg(($words)[1 + floor(random() * 40)::int], ' ') FROM generate_series(1, 5 + g % 20))
FROM generate_series(1, $MIXED_ROWS) g;
CREATE INDEX events_customer ON events (customer_id);
CREATE INDEX events_created ON events (created_at);
EOF
        pg_settle bench_mixed || { tail -n 20 "$WORK/build.log" >&2; die "cannot build bench_mixed"; }
    echo "$v" >"$m"
}

pg_build_tiny() {
    local m=$CACHE/pg/built.bench_tiny v="tiny v1"
    built "$m" "$v" && return 0
    note "building PostgreSQL bench_tiny"
    pg_admin postgres "DROP DATABASE IF EXISTS bench_tiny" >/dev/null &&
        pg_admin postgres "CREATE DATABASE bench_tiny" >/dev/null &&
        tiny_sql pg | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" \
            -U "$BENCH_USER" -d bench_tiny >"$WORK/build.log" 2>&1 &&
        pg_settle bench_tiny || { tail -n 20 "$WORK/build.log" >&2; die "cannot build bench_tiny"; }
    echo "$v" >"$m"
}

# MariaDB: the mixed rows again (a pgbench copy would dump its blank filler
# as '' and say little), MY_ROWS of them, generated by the SEQUENCE engine
# in chunks; secondary indexes after the load.
my_build_large() {
    local m=$CACHE/my/built.bench_large v="mixed $MIXED_VERSION rows=$MY_ROWS" words w note k from to chunk=250000
    built "$m" "$v" && return 0
    note "building MariaDB bench_large: $MY_ROWS rows"
    words="'$(echo $WORDS | sed "s/ /','/g")'"
    # 5 words, then 19 more that are each there half of the time (ELT past
    # the end of the list is NULL, which CONCAT_WS skips).
    note="CONCAT_WS(' '"
    for ((k = 0; k < 24; k++)); do
        w=40
        ((k >= 5)) && w=80
        note+=", ELT(1 + FLOOR(RAND() * $w), $words)"
    done
    note+=")"
    my_admin "" "DROP DATABASE IF EXISTS bench_large; CREATE DATABASE bench_large" &&
        my_admin bench_large "
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, country CHAR(2), signed_up DATE);
INSERT INTO customers SELECT seq, MD5(seq), ELT(1 + seq % 8, 'DE','FR','US','GB','BR','IN','JP','NG'),
    DATE'2015-01-01' + INTERVAL FLOOR(RAND() * 3000) DAY FROM seq_1_to_50000;
CREATE TABLE events (
    id BIGINT PRIMARY KEY,
    customer_id INT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    amount DECIMAL(12,2),
    score INT,
    created_at DATETIME(6) NOT NULL,
    email VARCHAR(100),
    uuid CHAR(36) NOT NULL,
    status VARCHAR(16),
    ip VARCHAR(15),
    path VARCHAR(100),
    attrs JSON,
    note TEXT
) ENGINE=InnoDB;" >"$WORK/build.log" 2>&1 || die "cannot build bench_large (MariaDB)"
    for ((from = 1; from <= MY_ROWS; from += chunk)); do
        to=$((from + chunk - 1))
        ((to > MY_ROWS)) && to=$MY_ROWS
        my_admin bench_large "
INSERT INTO events
SELECT seq, 1 + FLOOR(RAND() * 49999),
    ELT(1 + FLOOR(RAND() * 8), 'click','view','purchase','signup','refund','login','logout','search'),
    ROUND(RAND() * 5000, 2), FLOOR(RAND() * 101),
    TIMESTAMP'2021-01-01 00:00:00' + INTERVAL FLOOR(RAND() * 86400000000000) MICROSECOND,
    CONCAT('user', FLOOR(RAND() * 1e7), '@', ELT(1 + FLOOR(RAND() * 4), 'example.com','mail.org','corp.net','inbox.io')),
    LOWER(CONCAT_WS('-', HEX(RANDOM_BYTES(4)), HEX(RANDOM_BYTES(2)), HEX(RANDOM_BYTES(2)), HEX(RANDOM_BYTES(2)), HEX(RANDOM_BYTES(6)))),
    ELT(1 + FLOOR(RAND() * 5), 'new','paid','shipped','delivered','cancelled'),
    CONCAT('10.', FLOOR(RAND() * 256), '.', FLOOR(RAND() * 256), '.', FLOOR(RAND() * 256)),
    CONCAT('/products/', FLOOR(RAND() * 100000), '?ref=', ELT(1 + FLOOR(RAND() * 4), 'mail','ads','search','direct')),
    JSON_OBJECT('browser', ELT(1 + FLOOR(RAND() * 4), 'firefox','chrome','safari','edge'),
                'os', ELT(1 + FLOOR(RAND() * 5), 'linux','windows','macos','android','ios'),
                'lang', ELT(1 + FLOOR(RAND() * 6), 'en','de','fr','es','pt','ja'),
                'session', MD5(RAND())),
    $note
FROM seq_${from}_to_${to}" >>"$WORK/build.log" 2>&1 ||
            { tail -n 20 "$WORK/build.log" >&2; die "cannot build bench_large (MariaDB)"; }
    done
    my_admin bench_large "ALTER TABLE events ADD INDEX events_customer (customer_id), ADD INDEX events_created (created_at);
        ANALYZE TABLE customers, events" >>"$WORK/build.log" 2>&1 ||
        { tail -n 20 "$WORK/build.log" >&2; die "cannot build bench_large (MariaDB)"; }
    echo "$v" >"$m"
}

my_build_tiny() {
    local m=$CACHE/my/built.bench_tiny v="tiny v1"
    built "$m" "$v" && return 0
    note "building MariaDB bench_tiny"
    my_admin "" "DROP DATABASE IF EXISTS bench_tiny; CREATE DATABASE bench_tiny" &&
        tiny_sql my | MYSQL_PWD=$BENCH_PW mariadb --no-defaults -S "$MY_SOCK" -u "$BENCH_USER" bench_tiny >"$WORK/build.log" 2>&1 ||
        { tail -n 20 "$WORK/build.log" >&2; die "cannot build bench_tiny (MariaDB)"; }
    echo "$v" >"$m"
}

# SQLite: the mixed rows, SQ_ROWS of them.  SQLite's SQL has no UUID and
# no word lists: the UUID is formatted from random hex, the words are
# picked from a string of words padded to 9 characters.
SQ_LARGE= SQ_TINY=
sq_build_large() {
    local m=$CACHE/sqlite/built.large v="mixed $MIXED_VERSION rows=$SQ_ROWS" f=$CACHE/sqlite/large.sqlite
    local padded= w note k
    SQ_LARGE=$f
    mkdir -p "$CACHE/sqlite"
    built "$m" "$v" && [ -f "$f" ] && return 0
    note "building SQLite large.sqlite: $SQ_ROWS rows"
    for w in $WORDS; do padded+=$(printf '%-9s' "$w"); done
    # 5 words, then 19 more on a share of the rows (5 to 24 in all).
    note="substr('$padded', 1 + 9 * (abs(random()) % 40), 9)"
    for ((k = 1; k < 5; k++)); do note+=" || substr('$padded', 1 + 9 * (abs(random()) % 40), 9)"; done
    for ((k = 0; k < 19; k++)); do
        note+=" || CASE WHEN i % 20 > $k THEN substr('$padded', 1 + 9 * (abs(random()) % 40), 9) ELSE '' END"
    done
    note="replace(replace(replace(trim($note), '    ', ' '), '   ', ' '), '  ', ' ')"
    rm -f "$f" "$f-journal" "$f-wal" "$f-shm"
    sqlite3 -batch -bail "$f" >"$WORK/build.log" 2>&1 <<EOF || { tail -n 20 "$WORK/build.log" >&2; rm -f "$f"; die "cannot build large.sqlite"; }
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
BEGIN;
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT, signed_up TEXT);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 50000)
INSERT INTO customers SELECT i, lower(hex(randomblob(12))), substr('DEFRUSGBBRINJPNG', 1 + 2 * (i % 8), 2),
    date(1420070400 + abs(random()) % 259200000, 'unixepoch') FROM s;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    amount REAL,
    score INTEGER,
    created_at TEXT NOT NULL,
    email TEXT,
    uuid TEXT NOT NULL,
    status TEXT,
    ip TEXT,
    path TEXT,
    attrs TEXT,
    note TEXT
);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $SQ_ROWS)
INSERT INTO events SELECT i, 1 + abs(random()) % 50000,
    CASE abs(random()) % 8 WHEN 0 THEN 'click' WHEN 1 THEN 'view' WHEN 2 THEN 'purchase'
        WHEN 3 THEN 'signup' WHEN 4 THEN 'refund' WHEN 5 THEN 'login' WHEN 6 THEN 'logout' ELSE 'search' END,
    round((abs(random()) % 500000) / 100.0, 2),
    abs(random()) % 101,
    strftime('%Y-%m-%d %H:%M:%f', 1609459200 + (abs(random()) % 86400000000) / 1000.0, 'unixepoch'),
    'user' || abs(random()) % 10000000 || '@' ||
        CASE abs(random()) % 4 WHEN 0 THEN 'example.com' WHEN 1 THEN 'mail.org' WHEN 2 THEN 'corp.net' ELSE 'inbox.io' END,
    lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' ||
        hex(randomblob(2)) || '-' || hex(randomblob(6))),
    CASE abs(random()) % 5 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' WHEN 2 THEN 'shipped' WHEN 3 THEN 'delivered' ELSE 'cancelled' END,
    '10.' || abs(random()) % 256 || '.' || abs(random()) % 256 || '.' || abs(random()) % 256,
    '/products/' || abs(random()) % 100000 || '?ref=' ||
        CASE abs(random()) % 4 WHEN 0 THEN 'mail' WHEN 1 THEN 'ads' WHEN 2 THEN 'search' ELSE 'direct' END,
    json_object('browser', CASE abs(random()) % 4 WHEN 0 THEN 'firefox' WHEN 1 THEN 'chrome' WHEN 2 THEN 'safari' ELSE 'edge' END,
                'os', CASE abs(random()) % 5 WHEN 0 THEN 'linux' WHEN 1 THEN 'windows' WHEN 2 THEN 'macos' WHEN 3 THEN 'android' ELSE 'ios' END,
                'lang', CASE abs(random()) % 6 WHEN 0 THEN 'en' WHEN 1 THEN 'de' WHEN 2 THEN 'fr' WHEN 3 THEN 'es' WHEN 4 THEN 'pt' ELSE 'ja' END,
                'session', lower(hex(randomblob(16)))),
    $note
FROM s;
CREATE INDEX events_customer ON events (customer_id);
CREATE INDEX events_created ON events (created_at);
COMMIT;
PRAGMA journal_mode = DELETE;
ANALYZE;
EOF
    echo "$v" >"$m"
}

sq_build_tiny() {
    local m=$CACHE/sqlite/built.tiny v="tiny v1" f=$CACHE/sqlite/tiny.sqlite
    SQ_TINY=$f
    mkdir -p "$CACHE/sqlite"
    built "$m" "$v" && [ -f "$f" ] && return 0
    note "building SQLite tiny.sqlite"
    rm -f "$f"
    tiny_sql sqlite | sqlite3 -batch -bail "$f" >"$WORK/build.log" 2>&1 ||
        { tail -n 20 "$WORK/build.log" >&2; rm -f "$f"; die "cannot build tiny.sqlite"; }
    echo "$v" >"$m"
}

pg_db_size() { pg_admin postgres "SELECT pg_database_size('$1')"; }
my_db_size() {
    my_admin "" "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables
        WHERE table_schema = '$1'"
}

# --------------------------------------------------------------- measuring

# A group is a set of contenders timed side by side: round 0 warms the
# caches and measures peak RSS (GNU time around each process; for the
# programs under test also their own VmHWM, sampled from /proc, since GNU
# time counts the largest child too, e.g. pg_dump under db-snap); then
# ROUNDS timed rounds, the contenders in a rotating order.  A contender is a
# shell function that writes its output to $OUT and runs its processes
# under "${T[@]}".
group_begin() { # ID TITLE ROUNDS
    G_ID=$1 G_NAME=$2 G_TITLE=$2 G_ROUNDS=$3
    G_DIR=$WORK/$G_ID
    mkdir -p "$G_DIR"
    C_LABEL=() C_FUNC=() C_SAMPLE=() C_PREP=() C_POST=() C_STATE=() C_KEEP=()
    C_MED=() C_MIN=() C_MAX=() C_SIZE=() C_RSS=() C_OWN=() C_TIMES=()
}

# contender LABEL FUNCTION [--needs=PROG] [--input=FILE] [--sample=NAME] [--prep=FN]
#           [--post=FN] [--keep=PATH]
# --needs: skip (saying so) when PROG is not an executable file; --input:
# likewise when FILE does not exist.
# --sample: also sample the own peak RSS of the process called NAME.
# --keep: move the last output (and its .meta) there after the group.
contender() {
    local label=$1 fn=$2 i=${#C_LABEL[@]} a state=ok
    shift 2
    C_LABEL[i]=$label C_FUNC[i]=$fn C_SAMPLE[i]= C_PREP[i]= C_POST[i]= C_KEEP[i]=
    for a; do
        case $a in
        --needs=*)
            if [ ! -x "${a#*=}" ]; then
                state="skipped: ${a#*=} does not exist yet"
                note "$G_ID: skipping '$label': ${a#*=} does not exist"
            fi
            ;;
        --input=*)
            if [ ! -f "${a#*=}" ]; then
                state="skipped: no ${a#*=}"
                note "$G_ID: skipping '$label': no ${a#*=}"
            fi
            ;;
        --sample=*) C_SAMPLE[i]=${a#*=} ;;
        --prep=*) C_PREP[i]=${a#*=} ;;
        --post=*) C_POST[i]=${a#*=} ;;
        --keep=*) C_KEEP[i]=${a#*=} ;;
        esac
    done
    C_STATE[i]=$state
    C_TIMES[i]= C_MED[i]= C_MIN[i]= C_MAX[i]= C_SIZE[i]= C_RSS[i]= C_OWN[i]=
}

# Run FILE's command "$@" in the background and keep the highest VmHWM of
# the process while it is called NAME (before its exec it is still bash).
sample_own() { # FILE NAME COMMAND...
    local f=$1 name=$2 pid hwm=0 k v n cur rc
    shift 2
    "$@" &
    pid=$!
    while :; do
        n= cur=
        while read -r k v _; do
            case $k in
            Name:) n=$v ;;
            VmHWM:) cur=$v ;;
            esac
        done 2>/dev/null <"/proc/$pid/status"
        [ -z "$n" ] && break
        if [ "$n" = "$name" ]; then
            [ -z "$cur" ] && break # a zombie: its memory is gone
            ((cur > hwm)) && hwm=$cur
        fi
        tick 0.005
    done
    wait "$pid"
    rc=$?
    echo "$hwm" >>"$f"
    return $rc
}

# Run contender I once.  PHASE: rss, sample or timed.  Sets RUN_US.
run_one() {
    local i=$1 rc t0 t1
    PHASE=$2
    OUT=$G_DIR/out.$i
    rm -f -- "$OUT" "$OUT.meta"
    T=()
    case $PHASE in
    rss)
        : >"$G_DIR/rss.$i"
        [ -n "$GNU_TIME" ] && T=("$GNU_TIME" -f %M -a -o "$G_DIR/rss.$i")
        ;;
    sample)
        : >"$G_DIR/own.$i"
        T=(sample_own "$G_DIR/own.$i" "${C_SAMPLE[i]}")
        ;;
    esac
    if [ -n "${C_PREP[i]}" ] && ! "${C_PREP[i]}" >>"$G_DIR/prep.log" 2>&1; then
        tail -n 5 "$G_DIR/prep.log" >&2
        C_STATE[i]="failed: its set-up failed"
        return 1
    fi
    t0=$EPOCHREALTIME
    "${C_FUNC[i]}" >/dev/null 2>"$G_DIR/err.$i"
    rc=$?
    t1=$EPOCHREALTIME
    RUN_US=$((${t1/./} - ${t0/./}))
    if [ -n "${C_POST[i]}" ] && [ $rc = 0 ]; then
        "${C_POST[i]}" >>"$G_DIR/prep.log" 2>&1
    fi
    if [ $rc != 0 ]; then
        note "$G_ID: '${C_LABEL[i]}' failed (status $rc):"
        tail -n 5 "$G_DIR/err.$i" | sed 's/^/    /' >&2
        C_STATE[i]="failed (status $rc): $(tail -n 1 "$G_DIR/err.$i" | cut -c1-160)"
    fi
    return $rc
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print a[(NR + 1) / 2]; else printf "%d\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

group_run() {
    local n=${#C_LABEL[@]} i k r v
    note "$G_ID: warm-up round (peak RSS)"
    for ((i = 0; i < n; i++)); do
        [ "${C_STATE[i]}" = ok ] || continue
        run_one "$i" rss || continue
        C_RSS[i]=$(grep -E '^[0-9]+$' "$G_DIR/rss.$i" | paste -sd' ')
        if [ -n "${C_SAMPLE[i]}" ]; then
            run_one "$i" sample || continue
            C_OWN[i]=$(grep -E '^[0-9]+$' "$G_DIR/own.$i" | sort -n | tail -n 1)
        fi
    done
    for ((r = 1; r <= G_ROUNDS; r++)); do
        note "$G_ID: round $r of $G_ROUNDS"
        for ((k = 0; k < n; k++)); do
            i=$(((k + r) % n))
            [ "${C_STATE[i]}" = ok ] || continue
            run_one "$i" timed && C_TIMES[i]+="$RUN_US "
        done
    done
    for ((i = 0; i < n; i++)); do
        [ "${C_STATE[i]}" = ok ] || continue
        v=$(printf '%s\n' ${C_TIMES[i]})
        C_MED[i]=$(median <<<"$v")
        C_MIN[i]=$(sort -n <<<"$v" | head -n 1)
        C_MAX[i]=$(sort -n <<<"$v" | tail -n 1)
        [ -f "$G_DIR/out.$i" ] && C_SIZE[i]=$(stat -c %s "$G_DIR/out.$i")
        if [ -n "${C_KEEP[i]}" ] && [ -f "$G_DIR/out.$i" ]; then
            mv -f "$G_DIR/out.$i" "${C_KEEP[i]}"
            if [ -f "$G_DIR/out.$i.meta" ]; then
                mv -f "$G_DIR/out.$i.meta" "${C_KEEP[i]}.meta"
            else
                rm -f "${C_KEEP[i]}.meta"
            fi
        fi
    done
}

# The outputs go: a large group leaves a few GB behind otherwise.
group_end() { rm -rf "$G_DIR"; }

# Index of the contender LABEL, or nothing.
ci() {
    local i
    for i in "${!C_LABEL[@]}"; do
        [ "${C_LABEL[i]}" = "$1" ] && { echo "$i"; return 0; }
    done
    return 1
}

# Formatting: microseconds, bytes, KiB.
fmt_us() { awk -v u="$1" 'BEGIN { if (u < 1e6) printf "%.1f ms", u / 1e3; else printf "%.2f s", u / 1e6 }'; }
fmt_bytes() {
    awk -v b="$1" 'BEGIN { if (b < 1024) printf "%d B", b; else if (b < 1048576) printf "%.1f KiB", b / 1024;
        else if (b < 1073741824) printf "%.1f MiB", b / 1048576; else printf "%.2f GiB", b / 1073741824 }'
}
fmt_kib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; }

# Append to the section (and show it as it grows).
md() { printf '%s\n' "$*" | tee -a "$MD"; }

# The group's table: times against the contender REF; output sizes against
# SIZEREF when given.
group_table() { # REF [SIZEREF]
    local ref sref i t rss own out label
    ref=$(ci "$1")
    sref=$([ -n "${2:-}" ] && ci "$2")
    md ""
    md "### $G_TITLE"
    md ""
    md "| command | median | min – max | × \`$(md_cell "$1")\` | output | peak RSS |"
    md "|---|---:|---:|---:|---:|---:|"
    for i in "${!C_LABEL[@]}"; do
        label="\`$(md_cell "${C_LABEL[i]}")\`"
        if [ "${C_STATE[i]}" != ok ]; then
            md "| $label | ${C_STATE[i]//|/\\|} | | | | |"
            continue
        fi
        t="$(fmt_us "${C_MED[i]}") | $(fmt_us "${C_MIN[i]}") – $(fmt_us "${C_MAX[i]}")"
        out=–
        if [ -n "${C_SIZE[i]}" ]; then
            out=$(fmt_bytes "${C_SIZE[i]}")
            [ -n "$sref" ] && [ "$sref" != "$i" ] && [ -n "${C_SIZE[sref]}" ] &&
                out+=" ($(ratio "${C_SIZE[i]}" "${C_SIZE[sref]}") ×)"
        fi
        rss=
        for v in ${C_RSS[i]}; do rss+="${rss:+ + }$(fmt_kib "$v")"; done
        own=${C_OWN[i]:-0}
        if [ "$own" -gt 0 ]; then
            rss="${rss:+$rss MiB; }own $(fmt_kib "$own") MiB"
        elif [ -n "$rss" ]; then
            rss+=" MiB"
        else
            rss=n/a
        fi
        md "| $label | $t | $(ratio "${C_MED[i]}" "${C_MED[ref]:-0}") | $out | $rss |"
    done
    md ""
}

md_cell() { printf '%s' "${1//|/\\|}"; }

# Targets: one line each, PASS or MISS, never a failure of the script.
check_line() { # VERDICT TEXT
    md "- **$1** $2"
    case $1 in MISS) MISSES+=("$G_NAME: $2") ;; esac
}

target_ratio() { # LABEL REFLABEL LIMIT
    local a b r
    a=$(ci "$1") b=$(ci "$2")
    if [ -z "${C_MED[a]}" ] || [ -z "${C_MED[b]}" ]; then
        md "- n/a \`$1\` ≤ $3 × \`$(md_cell "$2")\`: not measured"
        return
    fi
    r=$(ratio "${C_MED[a]}" "${C_MED[b]}")
    check_line "$(awk -v r="$r" -v l="$3" 'BEGIN { print (r <= l ? "PASS" : "MISS") }')" \
        "\`$1\` ≤ $3 × \`$(md_cell "$2")\`: $r × ($(fmt_us "${C_MED[a]}") against $(fmt_us "${C_MED[b]}"))"
}

target_faster() { # LABEL REFLABEL
    local a b
    a=$(ci "$1") b=$(ci "$2")
    if [ -z "${C_MED[a]}" ] || [ -z "${C_MED[b]}" ]; then
        md "- n/a \`$1\` faster than \`$(md_cell "$2")\`: not measured"
        return
    fi
    check_line "$( ((C_MED[a] < C_MED[b])) && echo PASS || echo MISS)" \
        "\`$1\` faster than \`$(md_cell "$2")\`: $(fmt_us "${C_MED[a]}") against $(fmt_us "${C_MED[b]}")"
}

target_abs() { # LABEL LIMIT_US
    local a
    a=$(ci "$1")
    if [ -z "${C_MED[a]}" ]; then
        md "- n/a \`$1\` ≤ $(fmt_us "$2"): not measured"
        return
    fi
    check_line "$( ((C_MED[a] <= $2)) && echo PASS || echo MISS)" \
        "\`$1\` ≤ $(fmt_us "$2"): $(fmt_us "${C_MED[a]}")"
}

target_size() { # LABEL REFBYTES REFTEXT LIMIT
    local a r
    a=$(ci "$1")
    if [ -z "${C_SIZE[a]}" ] || [ -z "$2" ]; then
        md "- n/a \`$1\` output ≤ $4 × $3: not measured"
        return
    fi
    r=$(ratio "${C_SIZE[a]}" "$2")
    check_line "$(awk -v r="$r" -v l="$4" 'BEGIN { print (r <= l ? "PASS" : "MISS") }')" \
        "\`$1\` output ≤ $4 × $3: $r × ($(fmt_bytes "${C_SIZE[a]}") against $(fmt_bytes "$2"))"
}

# GNU time's figure is the largest process of the tree (the program or a
# child such as pg_dump): below the limit, the program is too.  Above it,
# the program's own VmHWM, sampled, decides (a sample may miss the last
# milliseconds, so it never makes a PASS on its own when GNU time works).
target_rss() { # LABEL LIMIT_MIB
    local a tree= own=
    a=$(ci "$1")
    if [ -z "$a" ] || [ "${C_STATE[a]}" != ok ]; then
        md "- n/a \`$1\` peak RSS < $2 MiB: not measured"
        return
    fi
    tree=$(printf '%s\n' ${C_RSS[a]} | sort -n | tail -n 1)
    own=${C_OWN[a]:-0}
    if [ -n "$tree" ] && ((tree < $2 * 1024)); then
        check_line PASS "\`$1\` peak RSS < $2 MiB: $(fmt_kib "$tree") MiB (GNU time, its largest process)"
    elif ((own > 0)); then
        check_line "$( ((own < $2 * 1024)) && echo PASS || echo MISS)" \
            "\`$1\` peak RSS < $2 MiB: own $(fmt_kib "$own") MiB, sampled (its tree's largest process: ${tree:+$(fmt_kib "$tree") MiB})"
    else
        md "- n/a \`$1\` peak RSS < $2 MiB: not measured"
    fi
}

# ------------------------------------------------------------ RESULTS.md

# The head of the section: when, where, which versions (call it once the
# servers run, so their versions are known).
machine_md() {
    local cpu mem os
    md() { printf '%s\n' "$*" >>"$MDH"; }
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
    md "- $(date -u '+%Y-%m-%d %H:%M UTC'), $PROG in **$MODE mode**: $G_ROUNDS_TEXT"
    md "- machine: $cpu, $(nproc) cores, $mem RAM, $os, Linux $(uname -r); load average at start $LOAD_AT_START, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    md "- dbguard $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet HEAD -- bin common 2>/dev/null || echo ' (with uncommitted changes in bin/ or common/)'), programs from $DBGUARD_BIN"
    md "- $(zstd --version 2>&1 | sed 's/^\*\*\* //; s/ \*\*\*$//; s/, by .*//'); $(gzip --version | head -n 1); pg_dump $("$PG_BIN/pg_dump" --version | awk '{ print $3 }'); $(mariadb-dump --version 2>/dev/null | sed 's/, for .*//'); sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
    [ -n "${PG_VERSION:-}" ] && md "- PostgreSQL server $PG_VERSION on 127.0.0.1 (SCRAM password), fsync=off, synchronous_commit=off, shared_buffers default (128 MB)"
    [ -n "${MY_VERSION:-}" ] && md "- MariaDB server $MY_VERSION on 127.0.0.1 (password), innodb_flush_log_at_trx_commit=0, doublewrite off, buffer pool default (128 MB)"
    [ -n "$GNU_TIME" ] || md "- GNU time not installed: peak RSS of the anchor commands not measured"
    md() { printf '%s\n' "$*" | tee -a "$MD"; }
    return 0
}

# Replace the section NAME of $RESULTS with the text in $MD (between
# marker comments, so each script rewrites only its own part).
results_write() { # NAME TITLE
    local name=$1 title=$2 tmp
    mkdir -p "$(dirname "$RESULTS")"
    if [ ! -f "$RESULTS" ]; then
        cat >"$RESULTS" <<'EOF'
# dbguard benchmark results

Written by bench/snap.sh, bench/restore.sh and bench/saferun.sh (see
bench/README); each script replaces its own section.  Times are medians of
the timed rounds, after a warm-up round; ratios are against the first
command of each table.
EOF
    fi
    tmp=$RESULTS.tmp.$$
    {
        awk -v b="<!-- begin $name -->" -v e="<!-- end $name -->" '
            $0 == b { skip = 1; next } $0 == e { skip = 0; next } !skip' "$RESULTS"
        echo "<!-- begin $name -->"
        echo
        echo "## $title"
        echo
        cat "$MDH"
        echo
        cat "$MD"
        echo "<!-- end $name -->"
    } | awk 'NF || !blank { print } { blank = !NF }' >"$tmp" && mv -f "$tmp" "$RESULTS"
    note "results written to $RESULTS"
}

# The misses, listed again at the end of the run.
MISSES=()
misses_md() {
    local m
    md ""
    if [ ${#MISSES[@]} = 0 ]; then
        md "All targets measured were met."
    else
        md "Missed targets:"
        md ""
        for m in "${MISSES[@]}"; do md "- $m"; done
    fi
    md ""
}
