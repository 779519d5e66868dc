# common.bash — loaded by every test file (`load helpers/common`): the built
# programs first on PATH, a C locale, an empty HOME, and an environment
# scrubbed of anything of the caller's that would pick a database or a
# policy (a leaked DATABASE_URL must never reach a test).  Test files declare
# bats_require_minimum_version themselves.

DBGUARD_BIN=${DBGUARD_BIN:-$BATS_TEST_DIRNAME/../bin}
DBGUARD_BIN=$(cd "$DBGUARD_BIN" 2>/dev/null && pwd || printf '%s' "$DBGUARD_BIN")
export DBGUARD_BIN
case ":$PATH:" in
*":$DBGUARD_BIN:"*) ;;
*) PATH=$DBGUARD_BIN:$PATH ;;
esac
export PATH
export LANG=C LC_ALL=C
unset LANGUAGE

# bats sources a test file once for setup_file and again in every test's own
# process; the variables setup_file exported (PGPORT, MY_URL, ...) reach the
# tests through the environment, so the scrub runs only on the first load.
if [ -z "${_DBG_SCRUBBED:-}" ]; then
    while read -r _dbg_var; do
        case $_dbg_var in
        DBGUARD_BIN | PG_BIN) ;;
        DATABASE_URL | DB_* | DBGUARD_* | PG* | MYSQL_* | MARIADB_* | MY_*) unset "$_dbg_var" ;;
        esac
    done < <(compgen -e)
    unset _dbg_var
    unset APP_ENV NODE_ENV RAILS_ENV RACK_ENV ENVIRONMENT DJANGO_ENV DJANGO_SETTINGS_MODULE \
        XDG_CONFIG_HOME NO_COLOR
    export _DBG_SCRUBBED=1
fi

# No ~/.config/dbguard, ~/.pgpass or ~/.my.cnf of the caller: each test gets
# its own empty home (setup_file gets the file's).
HOME=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/home
mkdir -p "$HOME"
export HOME

# shellcheck source=servers.bash
source "$BATS_TEST_DIRNAME/helpers/servers.bash"

# wait_until SECONDS COMMAND [ARG...]: run COMMAND every 50 ms until it
# succeeds (0) or SECONDS have passed (1): tests wait for a condition (a
# file appearing, a session open), never for a fixed time.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

# meta_seal FILE: recompute the meta_sha256 line of snapshot metadata that a
# test edited on purpose (to reach a check behind the seal), as by hand:
# the SHA-256 of every line before it.
meta_seal() {
    sed -i '/^meta_sha256=/d' "$1"
    printf 'meta_sha256=%s\n' "$(sha256sum < "$1" | cut -d' ' -f1)" >> "$1"
}

# snap_fixture KEY TIMESTAMP [LABEL]: a good SQLite snapshot of $proj/KEY.sqlite
# at TIMESTAMP (YYYYMMDDTHHMMSSZ) in $store, written directly with matching
# metadata.
snap_fixture() {
    local key=$1 ts=$2 label=${3:-} f
    mkdir -p "$store"
    f=$store/${key}_$ts${label:+_$label}.sqlite.zst
    printf 'snapshot %s\n' "$f" | zstd -q -c > "$f"
    cat > "$f.meta" <<EOM
format=dbguard-snapshot-1
engine=sqlite
server_version=3.40.1
database=$proj/$key.sqlite
host=
port=
created=${ts:0:4}-${ts:4:2}-${ts:6:2}T${ts:9:2}:${ts:11:2}:${ts:13:2}Z
dbguard_version=0.1.0
label=$label
reason=
compression=zstd
raw_bytes=10
size=$(stat -c %s "$f")
sha256=$(sha256sum "$f" | cut -d' ' -f1)
tables=0
rows=0
EOM
    meta_seal "$f.meta"
}
