# undo-hint.bash — for the t/55 files: follow the undo hint a rehearsal
# printed when its command wrote to the original, as a user would.
#
#   follow_undo_hint NAME   the hint in $stderr must be `safe-run --undo`;
#                           it is run with --confirm=NAME and must succeed

follow_undo_hint() {
    local hint
    hint=$(printf '%s\n' "$stderr" | sed -n 's/.*to undo what it did: //p')
    [ "$hint" = "safe-run --undo" ]
    read -ra undo <<< "$hint"
    run -0 --separate-stderr "${undo[@]}" --confirm="$1"
}
