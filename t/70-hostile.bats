#!/usr/bin/env bats
# Hostile input: the corpus in t/fixtures/hostile/ (.env files with control
# bytes, huge lines, deep nesting and expansion, NULs, broken UTF-8,
# malformed URLs) given to every program that reads a project's
# configuration.  Each run ends on its own, in bounded memory, by no signal,
# with at most one error from a single program (and warnings about what the
# input makes of the target), and nothing from the input
# reaches the terminal as a control sequence or as bytes that are not UTF-8.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj"
    cd "$proj"
}

# local_dns CMD...: the host names of the corpus are looked up on loopback
# only (a private mount of a resolv.conf naming 127.0.0.1), never by the
# machine's name server.
local_dns() {
    if [ "$(id -u)" = 0 ] && command -v unshare > /dev/null; then
        echo 'nameserver 127.0.0.1' > "$BATS_TEST_TMPDIR/resolv.conf"
        unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$BATS_TEST_TMPDIR/resolv.conf" "$@"
    else
        "$@"
    fi
}

# bounded PROG ARGS...: run in bounded memory (1 GiB of address space; under
# the sanitizers, which reserve far more address space than that, ASan's own
# limit on an allocation instead), stdout and stderr into out and err, the
# exit status in $status.
bounded() {
    status=0
    if [ -n "${ASAN_OPTIONS:-}" ]; then
        ASAN_OPTIONS=$ASAN_OPTIONS:allocator_may_return_null=1:max_allocation_size_mb=256 \
            local_dns timeout 120 "$@" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" || status=$?
        # the sanitizer's own word on the allocation it refused is not the
        # program's message
        sed -i '/^==[0-9]*==WARNING: AddressSanitizer failed to allocate /d' "$BATS_TEST_TMPDIR/err"
    else
        (ulimit -v 1048576 && local_dns timeout 120 "$@") > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" || status=$?
    fi
}

# clean FILE: no control byte but tab and newline, and valid UTF-8.
clean() {
    ! LC_ALL=C grep -qaP '[\x00-\x08\x0b-\x1f\x7f]' "$1" || { echo "raw control bytes in $1:"; cat -v "$1" | head -c 2000; return 1; }
    iconv -f UTF-8 -t UTF-8 "$1" > /dev/null || { echo "not UTF-8: $1"; return 1; }
}

@test "a control sequence in a host is shown escaped: cannot reach postgres at h\\x1b[2J:1" {
    bounded db-envcheck --ping --url=$'postgres://u@h\e[2J:1/app'
    [ "$status" -eq 4 ]
    clean "$BATS_TEST_TMPDIR/err"
    clean "$BATS_TEST_TMPDIR/out"
    grep -qF 'db-envcheck: cannot reach postgres at h\x1b[2J:1' "$BATS_TEST_TMPDIR/err"
    grep -qF 'h\x1b[2J' "$BATS_TEST_TMPDIR/out"
    bounded db-snap --url=$'postgres://u@h\e[2J:1/app\xff\xc2\x9b\xc3\xa9'
    [ "$status" -eq 4 ]
    clean "$BATS_TEST_TMPDIR/err"
    grep -qF 'db-snap: cannot reach postgres at h\x1b[2J:1' "$BATS_TEST_TMPDIR/err"
    # broken UTF-8 and C1 controls escaped; a valid character kept as it is
    bounded db-envcheck --url=$'postgres://u@h:1/app\xff\xc2\x9b\xc3\xa9'
    [ "$status" -eq 0 ]
    clean "$BATS_TEST_TMPDIR/out"
    grep -qF 'app\xff\xc2\x9bé' "$BATS_TEST_TMPDIR/out"
}

@test "the listing of the store shows a hostile label and reason escaped" {
    sqlite_fixture "$proj/app.sqlite"
    run -0 --separate-stderr db-snap --url="sqlite:///$proj/app.sqlite" --label=x --reason=$'npm test \e]0;owned\a'
    bounded db-snap --url="sqlite:///$proj/app.sqlite" --list --format=human
    [ "$status" -eq 0 ]
    clean "$BATS_TEST_TMPDIR/out"
    grep -qF 'npm test \x1b]0;owned\x07' "$BATS_TEST_TMPDIR/out"
}

@test "every file of the hostile corpus: one clean message or a clean report, bounded, no signal" {
    local f prog n=0
    for f in "$BATS_TEST_DIRNAME"/fixtures/hostile/*.env; do
        cp "$f" "$proj/.env"
        for prog in "db-envcheck" "db-envcheck --ping" "db-snap" "db-restore --confirm=app" "db-snap --list"; do
            # shellcheck disable=SC2086
            bounded $prog
            [ "$status" -lt 125 ] || { echo "${f##*/}: $prog: status $status"; cat "$BATS_TEST_TMPDIR/err"; return 1; }
            clean "$BATS_TEST_TMPDIR/err"
            clean "$BATS_TEST_TMPDIR/out"
            # one error at most (a warning besides it says what the input
            # makes of the target), every line the program's own
            [ "$(grep -vc "^${prog%% *}: warning: " "$BATS_TEST_TMPDIR/err")" -le 1 ] &&
                ! grep -qv "^${prog%% *}: " "$BATS_TEST_TMPDIR/err" ||
                { echo "${f##*/}: $prog:"; cat "$BATS_TEST_TMPDIR/err"; return 1; }
            # a failure says what, on one line that starts with the program's name
            if [ "$status" -ne 0 ]; then
                grep -q "^${prog%% *}: ." "$BATS_TEST_TMPDIR/err"
            fi
            n=$((n + 1))
        done
        # safe-run composes the others: each says its one line, and no
        # signal ends any of them
        bounded safe-run true
        [ "$status" -lt 128 ]
        clean "$BATS_TEST_TMPDIR/err"
    done
    [ "$n" -ge 60 ]
}

@test "the shipped programs have no kill points: DBGUARD_FAULT is never read" {
    local p
    for p in db-envcheck db-snap db-restore safe-run portcheck; do
        ! grep -qa DBGUARD_FAULT "$DBGUARD_BIN/$p" || { echo "$p reads DBGUARD_FAULT"; return 1; }
    done
    sqlite_fixture "$proj/app.sqlite"
    DBGUARD_FAULT=snap.renamed run -0 --separate-stderr db-snap --url="sqlite:///$proj/app.sqlite"
    [ -f "$output.meta" ]
}
