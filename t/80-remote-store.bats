#!/usr/bin/env bats
# The remote store ([store] remote, issue 17) on SQLite, against real rclone
# on both ends: a WebDAV and an SFTP remote served by `rclone serve` on
# loopback, and a local-path remote.  Push, list, pull and restore round
# trips; encryption with age; damaged and incomplete remote snapshots;
# pushes killed or cut off; retention; configuration errors; and never a
# credential in any argv, output or metadata.
bats_require_minimum_version 1.5.0
load helpers/common
load helpers/rclone

setup_file() {
    rclone_start_webdav
    rclone_start_sftp
    rclone_local_remote
}

teardown_file() {
    rclone_stop_all
}

setup() {
    proj=$BATS_TEST_TMPDIR/proj
    store=$proj/backups
    mkdir -p "$proj/database"
    cd "$proj"
    db=$proj/database/app.sqlite
    sqlite_fixture "$db"
    printf 'APP_ENV=local\nDB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
    # Each test its own directory on each remote.
    dir=t$BATS_TEST_NUMBER
    export DBGUARD_REMOTE=dav:$dir
    # A stalled server is given up on in seconds, not minutes.
    export RCLONE_CONTIMEOUT=3s RCLONE_TIMEOUT=3s RCLONE_LOW_LEVEL_RETRIES=1
}

dump() { sqlite3 "${1:-$db}" .dump | grep -v dbguard_marker; }
snap() { run -0 --separate-stderr db-snap "$@"; snapshot=$output; [ -f "$snapshot" ]; }
# The directory on disk behind a remote name.
remote_dir() {
    case $1 in
    dav) echo "$RC_DAV_DIR/$dir" ;;
    sftp) echo "$RC_SFTP_DIR/$dir" ;;
    loc) echo "$RC_LOCAL_DIR/$dir" ;;
    esac
}
remote_spec() {
    case $1 in
    loc) echo "loc:$RC_LOCAL_DIR/$dir" ;;
    *) echo "$1:$dir" ;;
    esac
}
# Wait up to $2 seconds (default 30) for `db-snap --list --remote` to show $1.
listed_remote() { db-snap --list --remote --format=tsv 2>/dev/null | grep -qF "$1"; }
wait_listed() { wait_until "${2:-30}" listed_remote "$1"; }

@test "push, list, pull and restore round trips on WebDAV, SFTP and a local path" {
    before=$(dump)
    snap --label seed
    name=${snapshot##*/}
    for kind in dav sftp loc; do
        export DBGUARD_REMOTE=$(remote_spec "$kind")
        run -0 --separate-stderr db-snap --push
        [ -z "$output" ]
        [[ $stderr == *"pushed '$name' to '$DBGUARD_REMOTE'"* ]]
        d=$(remote_dir "$kind")
        cmp "$snapshot" "$d/$name"
        grep -q "^remote_sha256=$(sha256sum "$snapshot" | cut -d' ' -f1)\$" "$d/$name.meta"
        grep -q '^label=seed$' "$d/$name.meta"
        # SFTP reports MD5 (recorded, so --verify --remote needs no
        # download); the local backend SHA-256; WebDAV nothing (read back).
        case $kind in
        sftp) grep -q "^remote_hash=md5:$(md5sum "$snapshot" | cut -d' ' -f1)\$" "$d/$name.meta" ;;
        *) ! grep -q '^remote_hash=' "$d/$name.meta" ;;
        esac
        # Nothing temporary is left there.
        run -0 ls -A "$d"
        [ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
        # The same columns as the local list, plus where it is.
        run -0 --separate-stderr db-snap --list --remote --format=tsv
        [ "$(printf '%s\n' "$output" | head -1)" = "$(db-snap --list --format=tsv | head -1)	where" ]
        [[ ${lines[1]} == "$DBGUARD_REMOTE/$name	app	sqlite	"*"	seed	"*"	good	"*"	local+remote" ]]
        run -0 --separate-stderr db-snap --list --remote --format=json
        [[ $output == *"\"path\":\"$DBGUARD_REMOTE/$name\""*"\"where\":\"local+remote\""* ]]
        # A teammate without the snapshot: pull, then restore from the remote.
        mv "$store" "$proj/old-store"
        run -0 --separate-stderr db-snap --pull "$name"
        [ "$output" = "$store/$name" ]
        cmp "$snapshot" "$store/$name"
        run -0 db-snap --verify "$name"
        rm -rf "$store"
        sqlite3 "$db" "DELETE FROM users; DROP TABLE orders;"
        run -0 --separate-stderr db-restore --remote --confirm=app.sqlite
        [[ $stderr == *"pulled '$name' from '$DBGUARD_REMOTE'"* ]]
        [[ $stderr == *"restored 'app.sqlite' from '$store/$name'"* ]]
        [ "$(dump)" = "$before" ]
        rm -rf "$store"
        mv "$proj/old-store" "$store"
    done
}

@test "a second push of the same snapshot is a no-op; --push --all pushes the rest" {
    snap --label one
    first=${snapshot##*/}
    snap --label two
    second=${snapshot##*/}
    run -0 --separate-stderr db-snap --push
    [[ $stderr == *"pushed '$second'"* ]]
    run -0 --separate-stderr db-snap --push "$second"
    [[ $stderr == *"'$second' is already on 'dav:$dir'"* ]]
    run -0 --separate-stderr db-snap --push --all
    [[ $stderr == *"pushed '$first'"* ]]
    [[ $stderr == *"'$second' is already on"* ]]
    run -0 --separate-stderr db-snap --list --remote --format=tsv
    [ "${#lines[@]}" -eq 3 ]
}

@test "db-restore --check --remote pulls, loads into a throwaway file and compares" {
    snap
    run -0 --separate-stderr db-snap --push
    rm -rf "$store"
    run -0 --separate-stderr db-restore --check --remote "${snapshot##*/}"
    [[ $stderr == *"is good: it loads, and its 2 tables hold the 5 rows recorded"* ]]
}

@test "encryption with age: the remote copy is ciphertext, pulled back with the identity, restorable by hand" {
    age-keygen -o "$HOME/team.key" 2>/dev/null
    pub=$(age-keygen -y "$HOME/team.key")
    printf '[store]\nencrypt_to = %s\n' "$pub" > .dbguard.conf
    snap
    name=${snapshot##*/}
    run -0 --separate-stderr db-snap --push
    [[ $stderr == *"(encrypted with age)"* ]]
    d=$(remote_dir dav)
    [ -f "$d/$name.age" ]
    [ ! -e "$d/$name" ]
    grep -q '^encryption=age$' "$d/$name.meta"
    ! cmp -s "$snapshot" "$d/$name.age"
    head -c 21 "$d/$name.age" | grep -q 'age-encryption.org/v1'
    # By hand, with standard tools (db-snap(1)).
    age -d -i "$HOME/team.key" "$d/$name.age" | zstd -dc > "$BATS_TEST_TMPDIR/by-hand.sqlite"
    [ "$(dump "$BATS_TEST_TMPDIR/by-hand.sqlite")" = "$(dump)" ]
    rm -rf "$store"
    # No identity configured: a clear configuration error, nothing kept.
    run -2 --separate-stderr db-snap --pull "$name"
    [[ $stderr == *"is encrypted with age, and no [store] identity names the key"* ]]
    run -0 ls -A "$store"
    [[ $output != *"$name"* ]]
    # A wrong identity is refused.
    age-keygen -o "$HOME/other.key" 2>/dev/null
    DBGUARD_IDENTITY=$HOME/other.key run -2 --separate-stderr db-snap --pull "$name"
    [[ $stderr == *"the identity '$HOME/other.key' is not one it was encrypted to"* ]]
    [ ! -e "$store/$name" ]
    run -0 ls -A "$store"
    [[ $output != *.tmp.* ]]
    # The right one.
    DBGUARD_IDENTITY=$HOME/team.key run -0 --separate-stderr db-snap --pull "$name"
    [ "$output" = "$store/$name" ]
    cmp "$snapshot" "$store/$name"
    # Verify works on ciphertext without the key.
    run -0 --separate-stderr db-snap --verify --remote
    [ "$output" = "dav:$dir/$name: OK" ]
}

@test "a corrupted remote object is refused on pull and reported by --verify --remote" {
    for kind in dav sftp loc; do
        export DBGUARD_REMOTE=$(remote_spec "$kind")
        snap
        name=${snapshot##*/}
        run -0 --separate-stderr db-snap --push
        # Same size, one byte changed.
        obj=$(remote_dir "$kind")/$name
        printf '\x00' | dd of="$obj" bs=1 seek=20 conv=notrunc status=none
        run -5 --separate-stderr db-snap --verify --remote
        [ "$output" = "$DBGUARD_REMOTE/$name: FAILED" ]
        [[ $stderr == *"failed verification: the "*" of its data object '$name' is not the"* ]]
        rm -f "$snapshot" "$snapshot.meta"
        run -5 --separate-stderr db-snap --pull "$name"
        [[ $stderr == *"the remote copy of '$name' is damaged"* ]]
        [ ! -e "$store/$name" ]
        run -0 ls -A "$store"
        [[ $output != *"$name"* ]]
        run -5 --separate-stderr db-restore --remote --confirm=app.sqlite
        rm -f "$obj" "$obj.meta"
    done
}

@test "a local snapshot that does not match its metadata is not pushed, and nothing is left there" {
    snap
    name=${snapshot##*/}
    printf '\x00' | dd of="$snapshot" bs=1 seek=20 conv=notrunc status=none
    run -5 --separate-stderr db-snap --push
    [[ $stderr == *"'$snapshot' does not match its metadata (SHA-256)"* ]]
    run -0 ls -A "$(remote_dir dav)"
    [ -z "$output" ]
    run -0 ls -A "$store"
    [[ $output != *.push.* ]]
}

@test "a missing metadata object: not listed, refused on pull, reported by --verify --remote" {
    snap
    name=${snapshot##*/}
    run -0 --separate-stderr db-snap --push
    rm "$(remote_dir dav)/$name.meta"
    run -0 --separate-stderr db-snap --list --remote --format=tsv
    [ "${#lines[@]}" -eq 1 ]
    run -5 --separate-stderr db-snap --pull "$name"
    [[ $stderr == *"'$name' has no metadata on 'dav:$dir': not a whole snapshot; refused"* ]]
    run -5 --separate-stderr db-snap --verify --remote
    [ "$output" = "dav:$dir/$name: MISSING METADATA" ]
    # The next push completes it.
    run -0 --separate-stderr db-snap --push
    run -0 --separate-stderr db-snap --verify --remote
    [ "$output" = "dav:$dir/$name: OK" ]
}

@test "kill -9 during a push at random points never leaves a listed partial snapshot" {
    # A snapshot big enough for a push to take a while.
    head -c 8000000 /dev/urandom | base64 -w0 > "$BATS_TEST_TMPDIR/blob"
    sqlite3 "$db" "CREATE TABLE blob (b TEXT); INSERT INTO blob VALUES (readfile('$BATS_TEST_TMPDIR/blob'));"
    snap --compress=none
    name=${snapshot##*/}
    sum=$(sha256sum "$snapshot" | cut -d' ' -f1)
    for round in 1 2 3 4 5 6; do
        # Killed when the k-th rclone child of the push has started.
        k=$((RANDOM % 7 + 1))
        setsid db-snap --push -q "$name" &
        pid=$!
        seen=
        for ((i = 0; i < 600; i++)); do
            for c in $(pgrep -g "$pid" -x rclone); do
                [[ " $seen " == *" $c "* ]] || seen+=" $c"
            done
            set -- $seen
            [ $# -ge "$k" ] && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.01
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" || true
        # Listed means whole: its metadata and an object that matches it.
        run -0 --separate-stderr db-snap --list --remote --format=tsv
        if [ "${#lines[@]}" -gt 1 ]; then
            [[ ${lines[1]} == *"	good	"* ]]
            [ "$(sha256sum "$(remote_dir dav)/$name" | cut -d' ' -f1)" = "$sum" ]
        fi
        # The local snapshot is untouched.
        run -0 db-snap --verify "$name"
    done
    # The next push completes or cleans what was left.
    run -0 --separate-stderr db-snap --push "$name"
    run -0 --separate-stderr db-snap --verify --remote
    [ "$output" = "dav:$dir/$name: OK" ]
    run -0 ls -A "$(remote_dir dav)"
    [ "$output" = "$name
$name.meta" ]
    # Nor anything in the local store.
    run -0 ls -A "$store"
    [[ $output != *.push.* && $output != *.tmp.* ]]
}

@test "a remote that stops answering mid-push gives 4 and leaves the local snapshot intact" {
    head -c 30000000 /dev/urandom > "$BATS_TEST_TMPDIR/blob"
    sqlite3 "$db" "CREATE TABLE blob (b BLOB); INSERT INTO blob VALUES (readfile('$BATS_TEST_TMPDIR/blob'));"
    snap --compress=none
    name=${snapshot##*/}
    db-snap --push "$name" 2>"$BATS_TEST_TMPDIR/push.err" &
    pid=$!
    # Stop the server once the upload has begun.
    for ((i = 0; i < 600; i++)); do
        compgen -G "$(remote_dir dav)/.$name.part-*" >/dev/null && break
        sleep 0.02
    done
    rclone_pause dav
    rc=0
    wait "$pid" || rc=$?
    rclone_resume dav
    [ "$rc" -eq 4 ]
    grep -q "cannot push '$name': cannot reach the remote 'dav:$dir'" "$BATS_TEST_TMPDIR/push.err"
    grep -q 'the local snapshot is as it was' "$BATS_TEST_TMPDIR/push.err"
    run -0 db-snap --verify "$name"
    run -0 --separate-stderr db-snap --list --remote --format=tsv
    [ "${#lines[@]}" -eq 1 ]
    # Unreachable from the start: 4 as well.
    rclone_pause dav
    run -4 --separate-stderr db-snap --list --remote
    rclone_resume dav
    [[ $stderr == *"cannot reach the remote 'dav:$dir'"* ]]
}

@test "retention on the remote keeps labelled snapshots and the newest; --dry-run removes nothing" {
    snap --label seed
    seed=${snapshot##*/}
    snap
    old=${snapshot##*/}
    snap
    new=${snapshot##*/}
    run -0 --separate-stderr db-snap --push --all
    run -0 --separate-stderr db-snap --prune --remote --keep=1 --dry-run
    [ "$output" = "dav:$dir/$old" ]
    [[ $stderr == *"would remove 1 snapshot"* ]]
    [ -f "$(remote_dir dav)/$old" ]
    # remote_keep is the remote's own limit; the local store is not touched.
    printf '[store]\nremote_keep = 1\n' > .dbguard.conf
    run -0 --separate-stderr db-snap --prune --remote
    [ "$output" = "dav:$dir/$old" ]
    [ ! -e "$(remote_dir dav)/$old" ]
    [ ! -e "$(remote_dir dav)/$old.meta" ]
    [ -f "$store/$old" ]
    run -0 --separate-stderr db-snap --list --remote --format=tsv
    [ "${#lines[@]}" -eq 3 ]
    [[ ${lines[1]} == "dav:$dir/$new	"* ]]
    [[ ${lines[2]} == "dav:$dir/$seed	"* ]]
    run -0 --separate-stderr db-snap --prune --remote --keep=0 --prune-labelled
    [ "$output" = "dav:$dir/$seed" ]
}

@test "push = yes pushes every new snapshot; push = background does not hold up safe-run" {
    printf '[store]\npush = yes\n' > .dbguard.conf
    snap
    [ -f "$(remote_dir dav)/${snapshot##*/}.meta" ]
    # In the background: safe-run returns while the remote does not answer
    # at all, and the push arrives once it does.
    printf '[store]\npush = background\n' > .dbguard.conf
    rclone_pause dav
    export RCLONE_TIMEOUT=60s RCLONE_CONTIMEOUT=60s
    run -0 --separate-stderr timeout 20 safe-run true
    rclone_resume dav
    new=$(ls "$store" | grep -v '\.meta$' | grep -v "${snapshot##*/}" | head -1)
    [ -n "$new" ]
    wait_listed "$new"
    grep -q "pushed '$new'" "$store/.push.log"
    run -0 stat -c %a "$store/.push.log"
    [ "$output" = 600 ]
}

@test "configuration errors: one clear line and exit 2" {
    run -2 --separate-stderr env -u DBGUARD_REMOTE db-snap --push
    [[ $stderr == *"no remote store is configured: set [store] remote = REMOTE:PATH"* ]]
    DBGUARD_REMOTE=nosuch:x run -2 --separate-stderr db-snap --list --remote
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ $stderr == *"unknown rclone remote 'nosuch' (environment DBGUARD_REMOTE); define it with \`rclone config\` or RCLONE_CONFIG_NOSUCH_TYPE"* ]]
    DBGUARD_REMOTE=no-colon run -2 --separate-stderr db-snap --list --remote
    [[ $stderr == *"remote 'no-colon' is not REMOTE:PATH"* ]]
    printf '[store]\npush = sometimes\n' > .dbguard.conf
    run -2 --separate-stderr db-snap
    [[ $stderr == *".dbguard.conf:2: push = sometimes: expected no, yes or background"* ]]
    rm .dbguard.conf
    # rclone missing.
    mkdir "$BATS_TEST_TMPDIR/bin"
    for p in db-snap; do ln -s "$(command -v "$p")" "$BATS_TEST_TMPDIR/bin/$p"; done
    run -2 --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin" db-snap --list --remote
    [[ $stderr == *"rclone is not installed (or not on PATH)"* ]]
    # Credentials refused, on both protocols.
    bad=$(printf 'wrong' | rclone obscure -)
    RCLONE_CONFIG_DAV_PASS=$bad run -2 --separate-stderr db-snap --list --remote
    [[ $stderr == *"the remote 'dav:$dir' (environment DBGUARD_REMOTE) refused the credentials"* ]]
    RCLONE_CONFIG_SFTP_PASS=$bad DBGUARD_REMOTE=sftp:x run -2 --separate-stderr db-snap --list --remote
    [[ $stderr == *"the remote 'sftp:x' (environment DBGUARD_REMOTE) refused the credentials"* ]]
    # Options that do not go together.
    run -2 --separate-stderr db-snap --remote
    run -2 --separate-stderr db-snap --pull
    run -2 --separate-stderr db-snap --verify --remote some-name
    run -2 --separate-stderr db-restore --remote --list
}

@test "no credential in any argv, output or metadata" {
    age-keygen -o "$HOME/team.key" 2>/dev/null
    printf '[store]\nencrypt_to = %s\nidentity = %s\n' "$(age-keygen -y "$HOME/team.key")" "$HOME/team.key" > .dbguard.conf
    secret_key=$(grep '^AGE-SECRET-KEY' "$HOME/team.key")
    # Every process's argv, sampled while the remote work runs.
    ( while :; do ps -eo args; sleep 0.01; done ) > "$BATS_TEST_TMPDIR/ps.log" 2>/dev/null &
    sampler=$!
    out=$BATS_TEST_TMPDIR/out
    for kind in dav sftp; do
        export DBGUARD_REMOTE=$(remote_spec "$kind")
        {
            db-snap -v
            db-snap -v --push
            db-snap -v --list --remote --format=json
            db-snap -v --verify --remote
            rm -rf "$store"
            db-restore -v --remote --confirm=app.sqlite
            db-snap -v --prune --remote --dry-run
        } >>"$out" 2>&1
    done
    kill "$sampler"
    wait "$sampler" || true
    grep -q 'pushed' "$out"
    grep -q 'rclone' "$BATS_TEST_TMPDIR/ps.log"
    for s in "$RC_PASSWORD" "$_RC_OBSCURED" "$secret_key"; do
        ! grep -rqF -- "$s" "$out" "$BATS_TEST_TMPDIR/ps.log" "$RC_DAV_DIR" "$RC_SFTP_DIR" "$store"
    done
}

@test "bash completion knows --push, --pull and --remote, and completes remote snapshot names" {
    snap
    name=${snapshot##*/}
    run -0 --separate-stderr db-snap --push
    source "$BATS_TEST_DIRNAME/../completions/db-snap"
    source "$BATS_TEST_DIRNAME/../completions/db-restore"
    complete_words() {
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        "$completer"
        printf '%s\n' "${COMPREPLY[@]}"
    }
    completer=_db_snap
    run -0 complete_words db-snap --pu
    [ "$output" = "--push
--pull" ]
    run -0 complete_words db-snap --rem
    [ "$output" = --remote ]
    run -0 complete_words db-snap --pull ''
    [ "$output" = "$name" ]
    completer=_db_restore
    run -0 complete_words db-restore --rem
    [ "$output" = --remote ]
    run -0 complete_words db-restore --remote ''
    [ "$output" = "$name" ]
}
