# rclone.bash — real remote stores for the tests of [store] remote: an rclone
# WebDAV server and an rclone SFTP server, each on 127.0.0.1 and a free port
# over a temporary directory, started in setup_file and stopped in
# teardown_file (and by an EXIT trap, so an interrupted run leaves no server
# behind); and a local-path remote.  Load it after helpers/common.
#
#   rclone_start_webdav    RC_DAV_DIR RC_DAV_PORT RC_DAV_PID; remote "dav:"
#   rclone_start_sftp      RC_SFTP_DIR RC_SFTP_PORT RC_SFTP_PID; remote "sftp:"
#   rclone_local_remote    RC_LOCAL_DIR; remote "loc:"
#   rclone_stop_all        stop what this shell started, remove the directories
#   rclone_pause NAME / rclone_resume NAME   SIGSTOP / SIGCONT a server
#
# The remotes are configured for the programs under test the way CI does it:
# RCLONE_CONFIG_<NAME>_* environment variables, the password obscured with
# `rclone obscure` (read from standard input, never from argv).  The servers
# get theirs through RCLONE_USER / RCLONE_PASS in their own environment only.
# RCLONE_CONFIG points at an empty file, so no rclone.conf of the caller's
# is ever read.

RC_USER=dbguard-rc
# Characters a URL or a shell would trip on, so quoting is exercised.
RC_PASSWORD='rc#p@ss:w/rd%3 x'
_RC_START_TIMEOUT=20
# Where the servers' directories go (bench/push.sh sets DBG_RC_TMPDIR).
_RC_TMP=${DBG_RC_TMPDIR:-${BATS_FILE_TMPDIR:-/tmp}}

# shellcheck source=traps.bash
source "$(dirname "${BASH_SOURCE[0]}")/traps.bash"

# Stop the servers when the shell that started them exits (traps.bash).
_rc_install_trap() { dbg_on_exit rclone_stop_all; }

_rc_common_env() {
    if [ -z "${RCLONE_CONFIG:-}" ]; then
        RCLONE_CONFIG=$_RC_TMP/rclone-empty.conf
        : >"$RCLONE_CONFIG"
        export RCLONE_CONFIG
    fi
    if [ -z "${_RC_OBSCURED:-}" ]; then
        _RC_OBSCURED=$(printf '%s' "$RC_PASSWORD" | rclone obscure -) || return 1
        export _RC_OBSCURED
    fi
}

# Open a TCP connection to 127.0.0.1:$1: 0 when something answers.
# _rc_serve KIND DIRVAR PORTVAR PIDVAR: rclone serve KIND on a free port.
_rc_serve() {
    local kind=$1 dirvar=$2 portvar=$3 pidvar=$4 dir port pid try i
    _rc_install_trap
    _rc_common_env || return 1
    dir=$(mktemp -d "$_RC_TMP/rclone-$kind.XXXXXX") || return 1
    mkdir -p "$dir/data"
    for ((try = 0; try < 5; try++)); do
        port=$(free_port) || break
        # Its own cache directory: rclone serve sftp keeps its host key there.
        # No directory cache: tests change files behind the server's back.
        RCLONE_USER=$RC_USER RCLONE_PASS=$RC_PASSWORD XDG_CACHE_HOME=$dir/cache \
            _dbg_spawn "$dir/server.log" rclone serve "$kind" --addr "127.0.0.1:$port" \
            --dir-cache-time 0s "$dir/data"
        pid=$!
        for ((i = 0; i < _RC_START_TIMEOUT * 20; i++)); do
            _dbg_pid_alive "$pid" || break
            port_open "$port" && break
            sleep 0.05
        done
        if _dbg_pid_alive "$pid" && port_open "$port"; then
            break
        fi
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=
        grep -q 'address already in use' "$dir/server.log" || break
    done
    if [ -z "$pid" ]; then
        _dbg_die "rclone serve $kind did not start within ${_RC_START_TIMEOUT}s" "$dir/server.log"
        rm -rf "$dir"
        return 1
    fi
    printf -v "$dirvar" '%s' "$dir/data"
    printf -v "$portvar" '%s' "$port"
    printf -v "$pidvar" '%s' "$pid"
    _RC_PIDS+=" $pid"
    _RC_DIRS+=" $dir"
    _RC_OWNER=$BASHPID
    export "${dirvar?}" "${portvar?}" "${pidvar?}"
}

rclone_start_webdav() {
    _rc_serve webdav RC_DAV_DIR RC_DAV_PORT RC_DAV_PID || return 1
    export RCLONE_CONFIG_DAV_TYPE=webdav RCLONE_CONFIG_DAV_VENDOR=other
    export RCLONE_CONFIG_DAV_URL="http://127.0.0.1:$RC_DAV_PORT/"
    export RCLONE_CONFIG_DAV_USER=$RC_USER RCLONE_CONFIG_DAV_PASS=$_RC_OBSCURED
}

rclone_start_sftp() {
    _rc_serve sftp RC_SFTP_DIR RC_SFTP_PORT RC_SFTP_PID || return 1
    export RCLONE_CONFIG_SFTP_TYPE=sftp RCLONE_CONFIG_SFTP_HOST=127.0.0.1
    export RCLONE_CONFIG_SFTP_PORT=$RC_SFTP_PORT
    export RCLONE_CONFIG_SFTP_USER=$RC_USER RCLONE_CONFIG_SFTP_PASS=$_RC_OBSCURED
    # The server's host key is new on every start.
    export RCLONE_CONFIG_SFTP_KNOWN_HOSTS_FILE=
}

rclone_local_remote() {
    _rc_install_trap
    _rc_common_env || return 1
    RC_LOCAL_DIR=$(mktemp -d "$_RC_TMP/rclone-local.XXXXXX") || return 1
    _RC_DIRS+=" $RC_LOCAL_DIR"
    _RC_OWNER=$BASHPID
    export RC_LOCAL_DIR RCLONE_CONFIG_LOC_TYPE=local
}

rclone_pause() {
    local pid
    case $1 in dav) pid=$RC_DAV_PID ;; sftp) pid=$RC_SFTP_PID ;; *) return 1 ;; esac
    kill -STOP "$pid"
}

rclone_resume() {
    local pid
    case $1 in dav) pid=$RC_DAV_PID ;; sftp) pid=$RC_SFTP_PID ;; *) return 1 ;; esac
    kill -CONT "$pid"
}

# Only what this very process started (a test's subshell inherits the PIDs).
rclone_stop_all() {
    local pid dir
    [ "${_RC_OWNER:-}" = "$BASHPID" ] || return 0
    for pid in ${_RC_PIDS:-}; do
        kill -CONT "$pid" 2>/dev/null
        kill -TERM "$pid" 2>/dev/null
        _dbg_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for dir in ${_RC_DIRS:-}; do
        case $dir in */rclone-*) rm -rf "$dir" ;; esac
    done
    _RC_PIDS= _RC_DIRS=
    unset _RC_OWNER
    return 0
}
