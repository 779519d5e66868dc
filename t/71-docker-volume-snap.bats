#!/usr/bin/env bats
# db-snap --volume and db-restore of a volume snapshot, against the private
# Docker Engine: byte-identical files, modes, owners and symlinks; refused
# while a container uses the volume; never half restored, even after kill -9.
bats_require_minimum_version 1.5.0
load helpers/common
load helpers/docker

setup_file() {
    docker_start
}

teardown_file() {
    docker_stop
}

setup() {
    docker_skip_unless_ready
    export DBGUARD_DOCKER_HELPER_IMAGE=$DK_IMAGE_BUSYBOX
    export DBGUARD_BACKUP_DIR=$BATS_TEST_TMPDIR/backups
    cd "$BATS_TEST_TMPDIR"
}

# A volume with a bit of everything: nested files, modes, owners, a
# symlink, a hidden file, an empty directory, and 200 KiB of random bytes.
make_volume() {
    docker volume create "$1" >/dev/null
    docker run --rm --network none -v "$1:/v" "$DK_IMAGE_BUSYBOX" sh -c '
        cd /v && mkdir -p data/sub empty && echo "hello" > data/a.txt &&
        head -c 204800 /dev/urandom > data/sub/blob && chmod 640 data/a.txt &&
        chown 999:999 data/sub/blob && chmod 2750 data/sub && ln -s a.txt data/link &&
        echo hidden > .hidden && echo "'"${2:-v1}"'" > version'
}

# path, type, mode, owner, size and checksum of every entry, sorted.
manifest() {
    docker run --rm --network none -v "$1:/v:ro" "$DK_IMAGE_BUSYBOX" sh -c '
        cd /v && find . | sort | while read -r f; do
            if [ -L "$f" ]; then echo "$f L $(readlink "$f")"
            elif [ -d "$f" ]; then echo "$f D $(stat -c "%a %u:%g" "$f")"
            else echo "$f F $(stat -c "%a %u:%g %s" "$f") $(md5sum < "$f" | cut -c1-32)"; fi
        done'
}

@test "db-snap --volume: a verified tar.zst in the store with the volume's metadata" {
    make_volume t71a
    run -0 --separate-stderr db-snap --volume=t71a --label=first
    snap=$output
    [[ $snap == "$DBGUARD_BACKUP_DIR"/t71a_*_first.tar.zst ]]
    [ -f "$snap.meta" ]
    grep -qx 'engine=volume' "$snap.meta"
    grep -qx 'volume=t71a' "$snap.meta"
    grep -qx 'driver=local' "$snap.meta"
    grep -qx 'files=8' "$snap.meta"
    grep -q "^sha256=$(sha256sum "$snap" | cut -d' ' -f1)\$" "$snap.meta"
    # Standard tools read it: zstd and tar list the files.
    run -0 --separate-stderr sh -c "zstd -dc '$snap' | tar -tf - | sort"
    [[ $output == *"./data/sub/blob"* ]] && [[ $output == *"./.hidden"* ]]
    run -0 --separate-stderr db-snap --verify --volume=t71a
    run -0 --separate-stderr db-snap --list --volume=t71a --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [[ ${lines[1]} == "$snap"$'\t't71a$'\t'volume$'\t'* ]]
    # The helper container is gone.
    run -0 --separate-stderr docker ps -aq
    [ -z "$output" ]
}

@test "a volume snapshot restores byte-identical files, modes, owners and symlinks" {
    make_volume t71b
    before=$(manifest t71b)
    run -0 --separate-stderr db-snap --volume=t71b
    snap=$output
    docker run --rm -v t71b:/v "$DK_IMAGE_BUSYBOX" sh -c 'rm -rf /v/data; echo changed > /v/version; touch /v/new'
    [ "$(manifest t71b)" != "$before" ]
    run -0 --separate-stderr db-restore --volume=t71b --confirm=t71b "$snap"
    [[ $stderr == *"safety snapshot: "*"_pre-restore.tar.zst"* ]]
    [ "$(manifest t71b)" = "$before" ]
    # The safety snapshot holds what was there before the restore.
    run -0 --separate-stderr db-snap --list --volume=t71b --format=tsv
    [ "${#lines[@]}" -eq 3 ]
}

@test "a volume gone after 'docker volume rm' comes back from its snapshot, labels and all" {
    make_volume t71c
    before=$(manifest t71c)
    run -0 --separate-stderr db-snap --volume=t71c
    run -0 --separate-stderr docker volume rm t71c
    run -0 --separate-stderr db-restore --volume=t71c --confirm=t71c
    [[ $stderr == *"created volume 't71c'"* ]]
    [ "$(manifest t71c)" = "$before" ]
}

@test "a restore is refused while a running container uses the volume, naming it" {
    make_volume t71d
    run -0 --separate-stderr db-snap --volume=t71d
    docker run -d --name t71user --network none -v t71d:/data "$DK_IMAGE_BUSYBOX" sleep 600 >/dev/null
    run -1 --separate-stderr db-restore --volume=t71d --confirm=t71d
    [[ $stderr == *"volume 't71d' is in use by running container t71user; stop it first (docker stop t71user"* ]]
    docker rm -f t71user >/dev/null
    run -0 --separate-stderr db-restore --volume=t71d --confirm=t71d
}

@test "a volume restore needs the volume's name as confirmation" {
    make_volume t71e
    run -0 --separate-stderr db-snap --volume=t71e
    run -6 --separate-stderr db-restore --volume=t71e </dev/null
    [[ $stderr == *"confirm with --confirm=t71e"* ]]
    run -6 --separate-stderr db-restore --volume=t71e --confirm=other
}

@test "a corrupt volume snapshot is refused before the volume is touched" {
    make_volume t71f
    before=$(manifest t71f)
    run -0 --separate-stderr db-snap --volume=t71f --compress=none
    snap=$output
    printf 'X' | dd of="$snap" bs=1 seek=600 conv=notrunc 2>/dev/null
    run -5 --separate-stderr db-restore --volume=t71f --confirm=t71f "$snap"
    [[ $stderr == *"failed verification"* ]]
    [ "$(manifest t71f)" = "$before" ]
}

@test "no such volume, no engine: clear errors and their exit statuses" {
    run -3 --separate-stderr db-snap --volume=t71-nope
    [[ $stderr == *"no Docker volume 't71-nope'"* ]]
    DOCKER_HOST=unix:///nonexistent.sock run -4 --separate-stderr db-snap --volume=t71a
    [[ $stderr == *"no Docker Engine reachable at unix:///nonexistent.sock"* ]]
}

@test "retention applies to volume snapshots" {
    make_volume t71g
    for i in 1 2 3; do
        run -0 --separate-stderr db-snap --volume=t71g
    done
    run -0 --separate-stderr db-snap --prune --volume=t71g --keep=1
    [ "${#lines[@]}" -eq 2 ]
    run -0 --separate-stderr db-snap --list --volume=t71g --format=tsv
    [ "${#lines[@]}" -eq 2 ]
}

# Old content "v1" or new content "v2", whole; never a mix.
whole_state() {
    docker run --rm --network none -v "$1:/v:ro" "$DK_IMAGE_BUSYBOX" sh -c '
        cd /v; ls -A | grep -v "^\.dbguard-restore" | sort | tr "\n" " "; echo; cat version'
}

@test "kill -9 at random points of a volume restore: old or new content, and the next run completes" {
    make_volume t71k v2
    run -0 --separate-stderr db-snap --volume=t71k --compress=none
    snap=$output
    # Eight random points between the start and a little past the end of a
    # restore (about 1.5 s here): extraction, commit, swap, or done.
    for round in 1 2 3 4 5 6 7 8; do
        delay=$(printf '%d.%03d' $((RANDOM % 3)) $((RANDOM % 1000)))
        # Back to the old content, "v1", with an extra file the new lacks.
        docker run --rm -v t71k:/v "$DK_IMAGE_BUSYBOX" sh -c \
            'cd /v && rm -rf ./* ./.[!.]* && echo v1 > version && echo old > oldfile' >/dev/null
        db-restore --volume=t71k --confirm=t71k --no-safety-snap "$snap" 2>/dev/null &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" || true
        # Let a helper container of the killed run finish what it was doing.
        docker wait dbguard-vol-t71k >/dev/null 2>&1 || true
        state=$(whole_state t71k)
        committed=$(docker run --rm -v t71k:/v:ro "$DK_IMAGE_BUSYBOX" sh -c 'ls -A /v | grep -c "^\.dbguard-restore-commit" || true')
        if [ "$committed" = 0 ]; then
            case $state in
            $'oldfile version \nv1' | $'.hidden data empty version \nv2') ;;
            *) echo "delay $delay: half restored: $state"; return 1 ;;
            esac
        fi
        run -0 --separate-stderr db-restore --volume=t71k --confirm=t71k --no-safety-snap "$snap"
        state=$(whole_state t71k)
        [ "$state" = $'.hidden data empty version \nv2' ] || { echo "delay $delay, after the next run: $state; $stderr"; return 1; }
    done
}

@test "an empty volume: its snapshot keeps and records its root's owner and mode; a restore into a new volume gives them back" {
    docker volume create t71empty >/dev/null
    docker run --rm -v t71empty:/d "$DK_IMAGE_BUSYBOX" sh -c 'chown 997:997 /d && chmod 700 /d'
    run -0 --separate-stderr db-snap --volume=t71empty
    snap=$output
    # Docker copies an image's mount point onto an empty volume it mounts
    # unless told not to: the helper container must not hand it to root.
    run -0 --separate-stderr docker run --rm -v t71empty:/d "$DK_IMAGE_BUSYBOX" stat -c '%u:%g %a' /d
    [ "$output" = "997:997 700" ]
    run -0 --separate-stderr sh -c "zstd -dc '$snap' | tar --numeric-owner -tvf -"
    [[ ${lines[0]} == "drwx------ 997/997 "*" ./" ]]
    run -0 --separate-stderr db-restore --volume=t71new --confirm=t71new "$snap"
    run -0 --separate-stderr docker run --rm -v t71new:/d:nocopy "$DK_IMAGE_BUSYBOX" stat -c '%u:%g %a' /d
    [ "$output" = "997:997 700" ]
}
