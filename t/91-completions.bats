#!/usr/bin/env bats
# Bash completions of db-restore and safe-run, run the way bash runs them:
# COMP_WORDS split at COMP_WORDBREAKS ("--format=" is "--format" "=" ""),
# against a real store of SQLite snapshots.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj=$BATS_TEST_TMPDIR/proj
    mkdir -p "$proj"
    cd "$proj"
    sqlite_fixture app.sqlite
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=app.sqlite\n' > .env
}

# comp FILE FUNCTION WORD...: what FUNCTION offers for the last WORD.
comp() {
    local file=$BATS_TEST_DIRNAME/../completions/$1 fn=$2
    shift 2
    bash -c 'source "$1" 2>/dev/null; fn=$2; shift 2
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        "$fn" 2>/dev/null; printf "%s\n" "${COMPREPLY[@]}"' _ "$file" "$fn" "$@"
}

@test "db-restore completes every good snapshot, labelled or not, newest first, as typed" {
    run -0 db-snap
    plain=$output
    run -0 db-snap --label=before
    labelled=$output
    run -0 db-snap
    bad=$output
    printf 'x' >> "$bad"
    want=$(printf '%s\n' "backups/${labelled##*/}" "backups/${plain##*/}")
    run -0 comp db-restore _db_restore db-restore ""
    [ "$output" = "$want" ]
    run -0 comp db-restore _db_restore db-restore "backups/app"
    [ "$output" = "$want" ]
    run -0 comp db-restore _db_restore db-restore "${plain%_*}"
    [[ $output == *"$plain"* ]]
    [ "${#lines[@]}" -eq 2 ]
    [[ ${lines[0]} == /* ]]
    run -0 comp db-restore _db_restore db-restore "app_"
    [ "$output" = "$(printf '%s\n' "${labelled##*/}" "${plain##*/}")" ]
    # Never the store's own files.
    run -0 comp db-restore _db_restore db-restore "backups/"
    [[ $output != *.meta* && $output != *journal* && $output != *.lock* ]]
    safe-run true
    run -0 comp db-restore _db_restore db-restore "backups/j"
    [ -z "$output" ]
    run -0 comp db-restore _db_restore db-restore "backups/.l"
    [ -z "$output" ]
}

@test "safe-run completes --format=, the wrapped command after --confirm=NAME, and --undo's numbers" {
    run -0 comp safe-run _safe_run safe-run --format = ""
    [ "$output" = $'human\ntsv\njson' ]
    run -0 comp safe-run _safe_run safe-run --journal --format = t
    [ "$output" = tsv ]
    run -0 comp safe-run _safe_run safe-run --confirm = app.sqlite ech
    [[ $output == *echo* ]]
    run -0 comp safe-run _safe_run safe-run --allow-production --confirm = app.sqlite --no-snap printf
    [[ $output == *printf* ]]
    run -0 comp safe-run _safe_run safe-run --confirm = ""
    [ -z "$output" ]
    safe-run true
    safe-run true
    run -0 comp safe-run _safe_run safe-run --undo ""
    [ "$output" = $'2\n1' ]
    run -0 comp safe-run _safe_run safe-run --undo 2 --c
    [ "$output" = "--confirm=" ]
}

@test "every long option a program's --help names is known to its completion" {
    for p in db-envcheck db-snap db-restore safe-run portcheck; do
        # Options from the option lines of --help (indented, starting with -).
        while read -r o; do
            grep -qF -- "$o" "$BATS_TEST_DIRNAME/../completions/$p" ||
                { echo "$p: completion lacks $o" >&2; return 1; }
        done < <("$p" --help | grep -E '^ +-' | grep -oE -- '--[a-z][a-z-]*' | sort -u)
    done
}
