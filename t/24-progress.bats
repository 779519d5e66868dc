#!/usr/bin/env bats
# The progress line on a terminal, against a real PostgreSQL: the percentage
# is of the dump's expected size (the last snapshot's), so it reaches 100;
# an ETA once the rate is known; the safety snapshot says it is one.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
    pg_sql 'create table big as select g as id, md5(g::text) as h, md5((g * 7)::text) as k
            from generate_series(1, 600000) g' >/dev/null
}

teardown_file() {
    pg_stop
}

setup() {
    cd "$BATS_TEST_TMPDIR"
}

# The progress updates of a run under a pseudo-terminal, one per line.
updates() { tr '\r' '\n' < "$1" | grep '%'; }

@test "db-snap: the percentage reaches 100 of the expected dump size, with an ETA" {
    DATABASE_URL=$PG_URL run -0 db-snap -q
    # The dump goes to a reader that takes at most 64 MiB a second: on any
    # machine it lasts long enough for several lines and an ETA.
    cat > slow-reader <<'EOF'
#!/usr/bin/perl
while (sysread STDIN, my $b, 1 << 20) { select undef, undef, undef, 1 / 64 }
EOF
    chmod +x slow-reader
    DATABASE_URL=$PG_URL run -0 script -qec "db-snap --compress=none -o - | ./slow-reader" out.txt
    run -0 updates out.txt
    [ "${#lines[@]}" -ge 3 ]
    [[ $output == *"ETA "* ]]
    # The last line: all of the expected size, no time left to show.
    [[ ${lines[-1]} == *"  100%"* ]]
    [[ ${lines[-1]} != *"ETA "* ]]
    max=$(printf '%s\n' "${lines[@]}" | grep -o '[0-9]*%' | tr -d % | sort -n | tail -n 1)
    [ "$max" -eq 100 ]
}

@test "a restore: the safety snapshot's line says so, and the tail after the load says what it does" {
    DATABASE_URL=$PG_URL run -0 db-snap -q
    snap=$output
    DATABASE_URL=$PG_URL run -0 script -qec "db-restore --confirm=$PGDATABASE '$snap'" out.txt
    run -0 updates out.txt
    [[ $output == *"safety snapshot of $PGDATABASE  "* ]]
    run -0 tr '\r' '\n' < out.txt
    [[ $output == *"psql builds the indexes and constraints..."* ]]
    [[ $output == *"db-restore: counting the rows of the restored database..."* ]]
    [[ $output == *"db-restore: swapping the restored database in for '$PGDATABASE'..."* ]]
    # The next message clears the status line: it starts a line of its own.
    [[ $output == *$'\e[Kdb-restore: restored '* ]]
}
