#!/usr/bin/env bats
# The test harness itself: real PostgreSQL and MariaDB servers on loopback
# that take the test user's password, refuse a wrong one, and are gone after
# a stop or when the shell that started them ends.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
    mariadb_start
}

teardown_file() {
    pg_stop
    mariadb_stop
}

@test "PostgreSQL 15 takes the test user's password over TCP on 127.0.0.1 only" {
    run -0 --separate-stderr pg_sql "SELECT current_user, current_setting('server_version_num')::int / 10000,
        current_setting('listen_addresses'), inet_server_addr()"
    [ "$output" = "$(printf 'dbguard\t15\t127.0.0.1\t127.0.0.1')" ]
    [ "$PGHOST" = 127.0.0.1 ] && [ "$PGDATABASE" = dbguard_test ]
}

@test "PostgreSQL refuses a wrong password" {
    PGPASSWORD=wrong run -2 --separate-stderr timeout 10 "$PG_BIN/psql" -X -h 127.0.0.1 -p "$PGPORT" \
        -U "$PGUSER" -d "$PGDATABASE" -c 'SELECT 1'
    [[ $stderr == *'password authentication failed for user "dbguard"'* ]]
}

@test "PG_URL carries the percent-encoded password that psql decodes" {
    [ "$PG_URL" = "postgres://dbguard:p%40ss%3Aw%2Frd%251@127.0.0.1:$PGPORT/dbguard_test" ]
    run -0 --separate-stderr env -u PGPASSWORD -u PGUSER -u PGHOST -u PGPORT -u PGDATABASE \
        timeout 10 "$PG_BIN/psql" -X -At "$PG_URL" -c 'SELECT current_database()'
    [ "$output" = dbguard_test ]
}

@test "MariaDB takes the test user's password over TCP and allows what dumps need" {
    run -0 --separate-stderr my_sql "SELECT CURRENT_USER(), @@bind_address"
    [ "$output" = "$(printf 'dbguard@127.0.0.1\t127.0.0.1')" ]
    run -0 --separate-stderr my_sql "CREATE DATABASE scratch; DROP DATABASE scratch"
    MYSQL_PWD=$MY_PASSWORD run -0 --separate-stderr timeout 20 mariadb-dump --no-defaults \
        --single-transaction -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" "$MY_DATABASE"
    [[ $output == *"Dump completed"* ]]
    [ "$MY_URL" = "mysql://dbguard:my%23p%40ss%3Aw%2Frd%252%20x@127.0.0.1:$MY_PORT/dbguard_test" ]
}

@test "MariaDB refuses a wrong password and has no password-less root" {
    MYSQL_PWD=wrong run -1 --separate-stderr timeout 10 mariadb --no-defaults --protocol=tcp \
        -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -e 'SELECT 1'
    [[ $stderr == *"Access denied for user 'dbguard'"* ]]
    run -1 --separate-stderr timeout 10 mariadb --no-defaults -S "$MY_SOCKET" -u root -e 'SELECT 1'
    [[ $stderr == *"Access denied for user 'root'"* ]]
}

@test "sqlite_fixture makes a small database" {
    sqlite_fixture "$BATS_TEST_TMPDIR/app.sqlite"
    run -0 --separate-stderr sqlite3 "$BATS_TEST_TMPDIR/app.sqlite" \
        "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM orders)"
    [ "$output" = "3 2" ]
}

# What a second pair of servers left behind: "alive" for every process still
# running (zombies excepted), "dir" for every directory still there.
leftovers() {
    local pid dir
    for pid in $1 $3; do _dbg_pid_alive "$pid" && echo "alive $pid"; done
    for dir in $2 $4; do [ -e "$dir" ] && echo "dir $dir"; done
    return 0
}

@test "stopping leaves no server process and no directory" {
    (   # a second pair, so the file's own servers keep running
        pg_start && mariadb_start && echo "$PG_PID $PG_DIR $MY_PID $MY_DIR" >"$BATS_TEST_TMPDIR/started"
        pg_stop
        mariadb_stop
    )
    read -r pgpid pgdir mypid mydir <"$BATS_TEST_TMPDIR/started"
    run -0 --separate-stderr leftovers "$pgpid" "$pgdir" "$mypid" "$mydir"
    [ "$output" = "" ]
}

@test "a shell that ends or is killed without stopping takes its servers along" {
    script='source "$1"; pg_start && mariadb_start && echo "$PG_PID $PG_DIR $MY_PID $MY_DIR" >"$2"'
    timeout 60 bash -c "$script" bash "$BATS_TEST_DIRNAME/helpers/servers.bash" "$BATS_TEST_TMPDIR/ended"
    read -r pgpid pgdir mypid mydir <"$BATS_TEST_TMPDIR/ended"
    run -0 --separate-stderr leftovers "$pgpid" "$pgdir" "$mypid" "$mydir"
    [ "$output" = "" ]

    # SIGTERM while the shell waits: the EXIT trap still runs.
    bash -c "$script; sleep 30 & echo \$! >\"\$2.sleep\"; wait" bash \
        "$BATS_TEST_DIRNAME/helpers/servers.bash" "$BATS_TEST_TMPDIR/killed" 3>&- &
    shell=$!
    wait_until 30 test -s "$BATS_TEST_TMPDIR/killed.sleep"
    kill -TERM "$shell"
    wait "$shell" || true
    kill "$(cat "$BATS_TEST_TMPDIR/killed.sleep")"
    read -r pgpid pgdir mypid mydir <"$BATS_TEST_TMPDIR/killed"
    run -0 --separate-stderr leftovers "$pgpid" "$pgdir" "$mypid" "$mydir"
    [ "$output" = "" ]
}

@test "the helpers' one EXIT trap (traps.bash): every stop once, newest first, then the trap before it, with the exit status" {
    script='source "$1"
        trap "echo \"old trap, status \$?\"" EXIT
        log=$2
        a() { echo a >>"$log"; }
        b() { echo b >>"$log"; }
        dbg_on_exit a; dbg_on_exit b; dbg_on_exit a
        (dbg_on_exit b; echo sub >>"$log")
        exit 3'
    run -3 --separate-stderr bash -c "$script" bash "$BATS_TEST_DIRNAME/helpers/traps.bash" "$BATS_TEST_TMPDIR/ran"
    [ "$output" = "old trap, status 3" ]
    # The subshell ran its own list (b), not its parent's.
    [ "$(cat "$BATS_TEST_TMPDIR/ran")" = $'sub\nb\nb\na' ]

    # Under set -e, as bats runs tests: a command that fails in a stop (a
    # kill of a process already gone) cuts short neither that stop, nor the
    # others, nor the trap before.
    script='set -e; source "$1"
        trap "echo old trap ran" EXIT
        log=$2
        a() { echo a >>"$log"; }
        b() { false; echo b >>"$log"; }
        dbg_on_exit a; dbg_on_exit b
        false'
    run -1 --separate-stderr bash -c "$script" bash "$BATS_TEST_DIRNAME/helpers/traps.bash" "$BATS_TEST_TMPDIR/ran-e"
    [ "$output" = "old trap ran" ]
    [ "$(cat "$BATS_TEST_TMPDIR/ran-e")" = $'b\na' ]
}
