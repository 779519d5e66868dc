#!/usr/bin/env bats
# Every program's --help usage and its man page SYNOPSIS say the same thing,
# every man page is clean under mandoc -T lint, and every program has its
# man page and bash completion.
bats_require_minimum_version 1.5.0
load helpers/common

programs() {
    local f
    for f in "$BATS_TEST_DIRNAME"/../bin/*.c; do basename "$f" .c; done
}

# The usage lines of --help, whitespace folded.
help_synopsis() {
    "$1" --help | sed -n '/^usage:/,/^$/p' | sed 's/^usage: //' | tr -s ' \n' '  ' | sed 's/ *$//'
}

man_synopsis() {
    MANWIDTH=200 mandoc -T ascii -O width=200 "$BATS_TEST_DIRNAME/../man1/$1.1" | col -bx |
        sed -n '/^SYNOPSIS/,/^[A-Z]/p' | sed '1d;$d' | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//'
}

@test "every program's --help synopsis equals its man page SYNOPSIS" {
    for p in $(programs); do
        [ -x "$DBGUARD_BIN/$p" ]
        h=$(help_synopsis "$DBGUARD_BIN/$p")
        m=$(man_synopsis "$p")
        if [ "$h" != "$m" ]; then
            echo "$p --help: $h" >&2
            echo "$p man:    $m" >&2
            return 1
        fi
    done
}

@test "every man page is clean under mandoc -T lint" {
    run -0 --separate-stderr mandoc -T lint -W warning "$BATS_TEST_DIRNAME"/../man1/*.1
    [ -z "$output" ]
    [ -z "$stderr" ]
}

@test "every program has a man page with EXIT STATUS and a bash completion" {
    for p in $(programs); do
        grep -q '^\.SH EXIT STATUS' "$BATS_TEST_DIRNAME/../man1/$p.1"
        [ -f "$BATS_TEST_DIRNAME/../completions/$p" ]
        bash -n "$BATS_TEST_DIRNAME/../completions/$p"
    done
}

@test "every program answers --version and rejects an unknown option with 2" {
    for p in $(programs); do
        run -0 --separate-stderr "$DBGUARD_BIN/$p" --version
        [[ $output == "$p (dbguard) "* ]]
        run -2 --separate-stderr "$DBGUARD_BIN/$p" --no-such-option
        [[ $stderr == *"$p:"* ]]
    done
}
