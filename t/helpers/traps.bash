# traps.bash — the one EXIT trap of the test helpers (servers.bash,
# docker.bash, rclone.bash): each registers the function that stops what it
# started, and when the shell exits — a test that failed, a killed run, a
# plain end — every registered function runs, the last registered first,
# then whatever EXIT trap was there before (bats's own).  A stop that fails
# keeps neither the others nor that trap from running, under set -e too (as
# bats runs tests).  The trap before sees the shell's exit status in $?
# where set -e is off; under set -e, re-raising it would end the trap there,
# so it sees 0 (bats tells a failed test by BATS_TEST_COMPLETED).  Sourced by
# each helper; sourcing it again changes nothing.
#
#   dbg_on_exit FUNCTION   run FUNCTION (once) when this process exits
#
# Per process: a subshell lists its parent's traps but never runs them, and
# its own servers are its own, so a subshell starts a list of its own (and
# keeps no parent trap to chain).  The functions themselves check that this
# very process started what they stop (a subshell inherits PG_PID and the
# like), so running one in the wrong shell stops nothing.

dbg_on_exit() {
    local fn=$1 old= f
    if [ "${_DBG_EXIT_PID:-}" != "$BASHPID" ]; then
        _DBG_EXIT_PID=$BASHPID
        _DBG_EXIT_FNS=()
        if [ "$BASHPID" = "$$" ]; then
            old=$(trap -p EXIT)
            if [ -n "$old" ]; then
                eval "set -- $old"
                old=$3
            fi
        fi
        # shellcheck disable=SC2064
        trap "_dbg_exit_status=\$?; _dbg_run_exit; _dbg_reraise; $old" EXIT
    fi
    for f in "${_DBG_EXIT_FNS[@]}"; do
        [ "$f" != "$fn" ] || return 0
    done
    _DBG_EXIT_FNS+=("$fn")
}

# Each stop runs on the left of ||, where set -e does not reach into it.
_dbg_run_exit() {
    local i
    [ "${_DBG_EXIT_PID:-}" = "$BASHPID" ] || return 0
    for ((i = ${#_DBG_EXIT_FNS[@]} - 1; i >= 0; i--)); do
        "${_DBG_EXIT_FNS[i]}" >/dev/null 2>&1 || :
    done
    return 0
}

# Leave $? as the shell's exit status was, unless set -e would end the trap.
_dbg_reraise() {
    case $- in
    *e*) return 0 ;;
    *) return "${_dbg_exit_status:-0}" ;;
    esac
}
