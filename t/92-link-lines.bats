#!/usr/bin/env bats
# A link line per program (Makefile, DESIGN.md): safe-run reaches databases,
# compose files and volumes only through its children, so it links no
# database, YAML or XML library; portcheck reads compose files and takes its
# snapshots and row counts through db-snap, so it links libyaml alone.
bats_require_minimum_version 1.5.0
load helpers/common

# The shared libraries a program needs, one soname per line.
needed() {
    local prog
    prog=$(command -v "$1")
    ldd "$prog" | awk '{ print $1 }'
}

# links_none PROG LIB...: PROG needs none of the LIBs (named in the failure).
links_none() {
    local prog=$1 lib
    shift
    for lib in "$@"; do
        if grep -q "^$lib" <<<"$output"; then
            printf '%s links %s:\n%s\n' "$prog" "$lib" "$output" >&2
            return 1
        fi
    done
}

@test "safe-run links none of libpq, libmariadb, libmysqlclient, libsqlite3, libyaml, libexpat" {
    run -0 needed safe-run
    [[ $output == *libc.so* ]]
    links_none safe-run libpq libmariadb libmysqlclient libsqlite3 libyaml libexpat
}

@test "portcheck links libyaml, and none of libpq, libmariadb, libsqlite3, libexpat, libzstd" {
    run -0 needed portcheck
    grep -q '^libyaml' <<<"$output"
    links_none portcheck libpq libmariadb libmysqlclient libsqlite3 libexpat libzstd
}
