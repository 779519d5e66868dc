#!/usr/bin/env bats
# The engine adapters (common/engine*.c) against real PostgreSQL, MariaDB and
# SQLite, driven by t/helpers/engine-probe.c: connection statuses (0, 1 for a
# refusal, 4 for no server), exact row counts, sizes, the production marker,
# client arguments, and never a password in a message.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    local root=$BATS_TEST_DIRNAME/.. libs
    if [ ! -f "$root/build/libdbguard.a" ] || [ ! -f "$root/build/flags" ]; then
        echo "build/libdbguard.a is missing: run make first" >&2
        return 1
    fi
    # The flags the library was built with (plain or sanitizers) and the
    # libraries the Makefile links every program with.
    libs=$(cd "$root" && printf 'print-libs: ; @echo $(LIB_LIBS)\n' |
        make -s --no-print-directory -f Makefile -f - print-libs)
    # shellcheck disable=SC2046
    (cd "$root" && ${CC:-cc} $(cat build/flags) -o "$BATS_FILE_TMPDIR/engine-probe" \
        t/helpers/engine-probe.c build/libdbguard.a $libs) || return 1
    export PROBE=$BATS_FILE_TMPDIR/engine-probe

    pg_start
    mariadb_start
    pg_sql "CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 7);
        CREATE TABLE \"we\"\"ird\" (x text); INSERT INTO \"we\"\"ird\" VALUES ('a'), ('b');
        CREATE SCHEMA audit; CREATE TABLE audit.log (y text); INSERT INTO audit.log VALUES ('q');
        CREATE VIEW big_items AS SELECT * FROM items WHERE id > 3"
    my_sql "CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2), (3);
        CREATE TABLE empty_one (y int); CREATE VIEW big_items AS SELECT * FROM items WHERE id > 1"
    export LITE=$BATS_FILE_TMPDIR/app.sqlite
    sqlite_fixture "$LITE"
}

teardown_file() {
    pg_stop
    mariadb_stop
}

pgp() { PROBE_PASSWORD=$PGPASSWORD timeout 30 "$PROBE" postgres 127.0.0.1 "$PGPORT" "$PGDATABASE" "$PGUSER" "$@"; }
myp() { PROBE_PASSWORD=$MY_PASSWORD timeout 30 "$PROBE" mysql 127.0.0.1 "$MY_PORT" "$MY_DATABASE" "$MY_USER" "$@"; }
litep() { timeout 30 "$PROBE" sqlite "" "" "$LITE" "" "$@"; }

# The value of "key value" line KEY in $output.
field() { sed -n "s/^$1 //p" <<<"$output"; }

@test "postgres: connects over TCP and reports version 15 and a size" {
    run -0 --separate-stderr pgp info
    [ "$(field engine)" = postgres ]
    [[ $(field version) == 15.* ]]
    [ "$(field major)" = 15 ]
    [ "$(field size)" -gt 0 ]
}

@test "postgres: every base table with its exact rows, schema outside public, no views" {
    run -0 --separate-stderr pgp tables
    [ "$output" = "$(printf 'audit.log\t1\nitems\t7\nwe"ird\t2')" ]
    run -0 --separate-stderr pgp txn-tables
    [ "$output" = "$(printf 'audit.log\t1\nitems\t7\nwe"ird\t2')" ]
}

@test "postgres: a wrong password is 1 and no message carries a password" {
    PROBE_PASSWORD='Wr0ng-s3cret' run -1 --separate-stderr timeout 30 "$PROBE" postgres 127.0.0.1 "$PGPORT" \
        "$PGDATABASE" "$PGUSER" info
    [[ $stderr == *"access denied for user 'dbguard' on 127.0.0.1:$PGPORT"* ]]
    [[ $stderr != *Wr0ng-s3cret* ]]
    [ "$output" = "" ]
    PROBE_PASSWORD=$PGPASSWORD run -1 --separate-stderr timeout 30 "$PROBE" postgres 127.0.0.1 "$PGPORT" \
        no_such_db "$PGUSER" info
    [ "$stderr" = "engine-probe: database 'no_such_db' does not exist on 127.0.0.1:$PGPORT" ]
}

@test "postgres: a closed port and a missing socket directory are 4" {
    port=$(free_port)
    run -4 --separate-stderr timeout 30 "$PROBE" postgres 127.0.0.1 "$port" "$PGDATABASE" "$PGUSER" info
    [ "$stderr" = "engine-probe: cannot reach postgres at 127.0.0.1:$port: Connection refused" ]
    run -4 --separate-stderr timeout 30 "$PROBE" postgres "$BATS_TEST_TMPDIR/none" "$PGPORT" "$PGDATABASE" \
        "$PGUSER" info
    [[ $stderr == *"cannot reach postgres at $BATS_TEST_TMPDIR/none/.s.PGSQL.$PGPORT: No such file"* ]]
}

@test "postgres: the socket directory as host, and the maintenance database" {
    PROBE_PASSWORD= run -0 --separate-stderr timeout 30 "$PROBE" postgres "$PG_SOCKET_DIR" "$PGPORT" \
        "$PGDATABASE" "$PGUSER" value 'SELECT current_database()'
    [ "$output" = dbguard_test ]
    run -0 --separate-stderr pgp admin value 'SELECT current_database()'
    [ "$output" = postgres ]
}

@test "postgres: the marker round trip keeps the rest of the database comment" {
    pg_sql "COMMENT ON DATABASE dbguard_test IS 'team notes'"
    run -0 --separate-stderr pgp marker mark production marker
    [ "$output" = "$(printf 'none\nproduction')" ]
    run -0 --separate-stderr pg_sql "SELECT shobj_description(oid, 'pg_database') FROM pg_database
        WHERE datname = 'dbguard_test'"
    [ "$output" = "dbguard:production team notes" ]
    run -0 --separate-stderr pgp mark staging marker mark clear marker
    [ "$output" = "$(printf 'staging\nnone')" ]
    run -0 --separate-stderr pg_sql "SELECT shobj_description(oid, 'pg_database') FROM pg_database
        WHERE datname = 'dbguard_test'"
    [ "$output" = "team notes" ]
    # The marker is not a table: it adds nothing to the table list.
    run -0 --separate-stderr pgp mark production tables mark clear
    [ "$output" = "$(printf 'audit.log\t1\nitems\t7\nwe"ird\t2')" ]
    run -1 --separate-stderr pgp mark 'PROD; DROP'
    [[ $stderr == *"invalid marker"* ]]
}

@test "postgres: client arguments keep the password out of argv, and psql connects" {
    run -0 --separate-stderr pgp clientargs
    [ "$output" = "$(printf 'arg -h\narg 127.0.0.1\narg -p\narg %s\narg -U\narg dbguard\nenv PGPASSWORD=%s\nenv PGCONNECT_TIMEOUT=5' \
        "$PGPORT" "$PGPASSWORD")" ]
    run -0 --separate-stderr env -u PGPASSWORD -u PGHOST -u PGPORT -u PGUSER \
        PROBE_PASSWORD="$PGPASSWORD" timeout 30 "$PROBE" postgres 127.0.0.1 "$PGPORT" "$PGDATABASE" \
        "$PGUSER" client "$PG_BIN/psql" -X -At -c 'SELECT current_user' dbguard_test
    [ "$output" = dbguard ]
}

@test "mysql: connects over TCP and reports a MariaDB version and a size" {
    run -0 --separate-stderr myp info
    [ "$(field engine)" = mysql ]
    [[ $(field version) == 10.*MariaDB* ]]
    [ "$(field major)" = 10 ]
    [ "$(field size)" -gt 0 ]
}

@test "mysql: every base table with its exact rows, no views" {
    run -0 --separate-stderr myp tables txn-tables
    [ "$output" = "$(printf 'empty_one\t0\nitems\t3\nempty_one\t0\nitems\t3')" ]
}

@test "mysql: a wrong password and a missing database are 1, no message carries a password" {
    PROBE_PASSWORD='Wr0ng-s3cret' run -1 --separate-stderr timeout 30 "$PROBE" mysql 127.0.0.1 "$MY_PORT" \
        "$MY_DATABASE" "$MY_USER" info
    [[ $stderr == *"access denied for user 'dbguard' on 127.0.0.1:$MY_PORT; check the user and password"* ]]
    [[ $stderr != *Wr0ng-s3cret* ]]
    PROBE_PASSWORD=$MY_PASSWORD run -1 --separate-stderr timeout 30 "$PROBE" mysql 127.0.0.1 "$MY_PORT" \
        no_such_db "$MY_USER" info
    [ "$stderr" = "engine-probe: database 'no_such_db' does not exist on 127.0.0.1:$MY_PORT" ]
    [[ $stderr != *"$MY_PASSWORD"* ]]
}

@test "mysql: a closed port and a missing socket are 4; the server's socket works" {
    port=$(free_port)
    run -4 --separate-stderr timeout 30 "$PROBE" mysql 127.0.0.1 "$port" "$MY_DATABASE" "$MY_USER" info
    [ "$stderr" = "engine-probe: cannot reach mysql at 127.0.0.1:$port: Connection refused" ]
    run -4 --separate-stderr timeout 30 "$PROBE" mysql "$BATS_TEST_TMPDIR/none.sock" "" "$MY_DATABASE" \
        "$MY_USER" info
    [[ $stderr == *"cannot reach mysql at $BATS_TEST_TMPDIR/none.sock: No such file"* ]]
    PROBE_PASSWORD=$MY_PASSWORD run -0 --separate-stderr timeout 30 "$PROBE" mysql "$MY_SOCKET" "" \
        "$MY_DATABASE" "$MY_USER" value 'SELECT CURRENT_USER()'
    [ "$output" = dbguard@localhost ]
}

@test "mysql: the marker round trip keeps exactly one row and hides the table" {
    run -0 --separate-stderr myp marker mark production marker tables
    [ "$output" = "$(printf 'none\nproduction\nempty_one\t0\nitems\t3')" ]
    run -0 --separate-stderr myp mark staging
    run -0 --separate-stderr my_sql "SELECT class, set_at FROM dbguard_marker"
    [[ $output =~ ^staging$'\t'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
    run -0 --separate-stderr myp mark clear marker
    [ "$output" = none ]
    run -0 --separate-stderr my_sql "SELECT count(*) FROM information_schema.tables
        WHERE table_schema = 'dbguard_test' AND table_name = 'dbguard_marker'"
    [ "$output" = 0 ]
}

@test "mysql: the client option file is private, in memory, survives an odd password, and is closed" {
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    mkdir -p "$TMPDIR"
    # What an older dbguard left when killed: a password in TMPDIR.  Gone
    # once a client is started; a directory holding anything else stays.
    mkdir -m 700 "$TMPDIR/dbguard-my.AbC123" "$TMPDIR/dbguard-my.XyZ789"
    printf '[client]\npassword="%s"\n' "$MY_PASSWORD" > "$TMPDIR/dbguard-my.AbC123/client.cnf"
    touch "$TMPDIR/dbguard-my.XyZ789/client.cnf" "$TMPDIR/dbguard-my.XyZ789/ibdata1"
    run -0 --separate-stderr myp clientargs
    [[ ${lines[0]} =~ ^"arg --defaults-file=/dev/fd/"[0-9]+$ ]]
    [ "${lines[1]}" = "file 600 inherited" ]
    [[ $output != *"$MY_PASSWORD"* ]]
    [ ! -e "$TMPDIR/dbguard-my.AbC123" ]
    [ -e "$TMPDIR/dbguard-my.XyZ789/client.cnf" ]
    [ "$(ls -A "$TMPDIR")" = dbguard-my.XyZ789 ]
    # A password with every character the option-file syntax treats specially.
    odd='a"b'\''c\d#e f;g\'
    my_sql "CREATE USER 'odd'@'127.0.0.1' IDENTIFIED BY 'a\"b''c\\\\d#e f;g\\\\';
        GRANT ALL ON dbguard_test.* TO 'odd'@'127.0.0.1'"
    PROBE_PASSWORD=$odd run -0 --separate-stderr timeout 30 "$PROBE" mysql 127.0.0.1 "$MY_PORT" \
        "$MY_DATABASE" odd value 'SELECT CURRENT_USER()'
    [ "$output" = odd@127.0.0.1 ]
    PROBE_PASSWORD=$odd run -0 --separate-stderr timeout 30 "$PROBE" mysql 127.0.0.1 "$MY_PORT" \
        "$MY_DATABASE" odd client mariadb -N -e 'SELECT CURRENT_USER(), DATABASE()' dbguard_test
    [ "$output" = "$(printf 'odd@127.0.0.1\tdbguard_test\ncleanup done')" ]
    PROBE_PASSWORD=$odd run -0 --separate-stderr timeout 30 "$PROBE" mysql 127.0.0.1 "$MY_PORT" \
        "$MY_DATABASE" odd client mariadb-dump --single-transaction --no-data dbguard_test items
    [[ $output == *"CREATE TABLE \`items\`"* ]]
}

@test "sqlite: version, file size and every table with its exact rows" {
    run -0 --separate-stderr litep info tables
    [ "$(field engine)" = sqlite ]
    [[ $(field version) == 3.* ]]
    [ "$(field size)" = "$(stat -c %s "$LITE")" ]
    [ "$(sed -n '/\t/p' <<<"$output")" = "$(printf 'orders\t2\nusers\t3')" ]
}

@test "sqlite: a missing file is 4 and is not created; garbage is 1; :memory: opens" {
    run -4 --separate-stderr timeout 30 "$PROBE" sqlite "" "" "$BATS_TEST_TMPDIR/none.db" "" info
    [ "$stderr" = "engine-probe: no such database file '$BATS_TEST_TMPDIR/none.db'" ]
    [ ! -e "$BATS_TEST_TMPDIR/none.db" ]
    echo 'not a database at all' >"$BATS_TEST_TMPDIR/junk.db"
    run -1 --separate-stderr timeout 30 "$PROBE" sqlite "" "" "$BATS_TEST_TMPDIR/junk.db" "" info
    [ "$stderr" = "engine-probe: '$BATS_TEST_TMPDIR/junk.db' is not a SQLite database" ]
    run -0 --separate-stderr timeout 30 "$PROBE" sqlite "" "" :memory: "" tables marker
    [ "$output" = none ]
    run -2 --separate-stderr timeout 30 "$PROBE" oracle "" "" "$LITE" "" info
    [ "$stderr" = "engine-probe: unknown database engine 'oracle'" ]
}

@test "sqlite: the marker round trip keeps one row and hides the table" {
    run -0 --separate-stderr litep marker mark production marker tables
    [ "$output" = "$(printf 'none\nproduction\norders\t2\nusers\t3')" ]
    run -0 --separate-stderr sqlite3 "$LITE" "SELECT count(*), min(class) FROM dbguard_marker"
    [ "$output" = "1|production" ]
    run -0 --separate-stderr litep mark clear marker
    [ "$output" = none ]
    run -0 --separate-stderr sqlite3 "$LITE" "SELECT count(*) FROM sqlite_master WHERE name = 'dbguard_marker'"
    [ "$output" = 0 ]
}

@test "literals and identifiers survive quoting on every engine" {
    s="it's a \"test\" \\ with; -- odd bits"
    for p in pgp myp litep; do
        lit=$($p literal "$s")
        run -0 --separate-stderr $p value "SELECT $lit"
        [ "$output" = "$s" ]
    done
}
