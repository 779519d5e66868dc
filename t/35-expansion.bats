#!/usr/bin/env bats
# Bounded expansion: a .env (or a compose file) whose values double at every
# level, or chain 200,000 times, gives "FILE:LINE: expansion too large" in
# bounded memory and time, in every loader's dialect; never an
# out-of-memory death.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj"
    cd "$proj"
}

# A0=xxxxxxxx, An=${An-1}${An-1} up to A39 (2^39 * 8 bytes if expanded).
doubling() {
    awk -v first="$1" -v last="$2" 'BEGIN {
        print first
        print "A0=xxxxxxxx"
        for (i = 1; i <= 39; i++) printf "A%d=${A%d}${A%d}\n", i, i - 1, i - 1
        print last
    }' > .env
}

# The largest resident size (KiB) of a command, from GNU time.
max_rss() {
    /usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$@" > /dev/null 2>&1 || true
    tail -n 1 "$BATS_TEST_TMPDIR/rss"
}

@test "\${A}\${A} doubling 39 levels: 'expansion too large' in every dialect, in bounded memory" {
    doubling DB_CONNECTION=pgsql 'DB_DATABASE=${A39}'
    for marker in none artisan package.json Gemfile; do
        rm -f artisan package.json Gemfile
        [ "$marker" = none ] || touch "$marker"
        run -2 --separate-stderr db-envcheck
        [[ $stderr == *"db-envcheck: .env:"*": expansion too large"* ]] || { echo "$marker: $stderr" >&2; return 1; }
        rss=$(max_rss db-envcheck)
        [ "$rss" -lt 262144 ] || { echo "$marker: $rss KiB" >&2; return 1; }
    done
}

@test "200,000 chained expansions finish, and the chain's value is read" {
    awk 'BEGIN { print "DB_CONNECTION=pgsql"; print "B0=chained"
                 for (i = 1; i <= 200000; i++) printf "B%d=${B%d}\n", i, i - 1
                 print "DB_DATABASE=${B200000}" }' > .env
    run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_DATABASE=chained"* ]]
}

@test "safe-run and db-snap inherit the bound: an error, not an out-of-memory death" {
    doubling DB_CONNECTION=sqlite 'DB_DATABASE=${A39}.sqlite'
    run -125 --separate-stderr safe-run --dry-run php artisan migrate
    [[ $stderr$output == *"expansion too large"* ]]
}

@test "compose interpolation is bounded too: the .env portcheck reads and the compose file itself" {
    printf 'services:\n  db:\n    image: postgres\n    ports:\n      - "${P:-5432}:5432"\n' > compose.yaml
    doubling '# compose' 'P=${A39}'
    run -2 --separate-stderr portcheck validate
    [[ $stderr == *"portcheck: .env:"*": expansion too large"* ]]
    # a compose value that repeats a large variable
    awk 'BEGIN { s = "A0="; for (i = 0; i < 60000; i++) s = s "x"; print s }' > .env
    printf 'services:\n  db:\n    image: "${A0}${A0}${A0}"\n    ports:\n      - "5432:5432"\n' > compose.yaml
    run -2 --separate-stderr portcheck validate
    [[ $stderr == *"portcheck: compose.yaml:3: expansion too large"* ]]
}

@test "compose-go's operators in the .env portcheck reads: \${X-d}, \${X:?err}" {
    printf 'services:\n  db:\n    image: postgres\n    ports:\n      - "${P}:5432"\n' > compose.yaml
    printf 'P=${Q-5433}\n' > .env
    run -1 --separate-stderr portcheck validate
    [[ $output == *" 5433 "*"(.env:1 P)"* ]]
    printf 'X=${NOPE:?must be set}\nP=5433\n' > .env
    run -2 --separate-stderr portcheck validate
    [[ $stderr == *"portcheck: .env:1: required variable 'NOPE' is not set"* ]]
}
