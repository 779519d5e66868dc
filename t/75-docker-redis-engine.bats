#!/usr/bin/env bats
# Redis for real, against the private Docker Engine and a Redis image built
# from the machine's redis-server: portcheck validate takes a Redis on a
# named volume for a data service and says when its persistence is off (and
# a restart really loses its keys then); db-snap --volume of its volume
# after SAVE, and of an AOF directory, restored with db-restore --volume into
# a fresh volume that a new Redis starts on with the keys; portcheck apply
# --restart moves it into the Redis block and verifies it with PING.
bats_require_minimum_version 1.5.0
load helpers/common
load helpers/docker

setup_file() {
    docker_start
    [ -n "${DK_SKIP_REASON:-}" ] || docker_image_redis ||
        export DK_SKIP_REASON="cannot build the Redis image (make deps installs redis-server)"
}

teardown_file() {
    docker_stop
}

setup() {
    docker_test_setup
    dk_port_range
    mkdir -p "$BATS_TEST_TMPDIR/stack"
    cd "$BATS_TEST_TMPDIR/stack"
}

teardown() {
    [ -z "${DK_SKIP_REASON:-}" ] || return 0
    docker rm -f t75probe >/dev/null 2>&1 || true
    cd "$BATS_TEST_TMPDIR/stack" 2>/dev/null && "${COMPOSE[@]}" -p stack down -v >/dev/null 2>&1 || true
}

# compose.yaml with one Redis service on host port $1 (through .env), its
# /data on the named volume redisdata, the command $2 (none: the image's).
write_compose() {
    printf 'REDIS_PORT=%s\n' "$1" >.env
    {
        cat <<YAML
services:
  cache:
    image: $DK_IMAGE_REDIS
YAML
        [ -z "${2:-}" ] || printf '    command: %s\n' "$2"
        cat <<'YAML'
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      retries: 30
    ports:
      - "127.0.0.1:${REDIS_PORT}:6379"
    volumes:
      - redisdata:/data
volumes:
  redisdata:
YAML
    } >compose.yaml
}

rc() {
    local port=$1
    shift
    redis-cli -h 127.0.0.1 -p "$port" "$@"
}

up() {
    "${COMPOSE[@]}" up -d >/dev/null 2>&1
    dk_wait_redis "$1" 60
    dk_wait_healthy "$("${COMPOSE[@]}" ps -q cache)" 60
}

# Keys of three types, one value with a newline and a NUL byte.
fill() {
    rc "$1" set greeting hello >/dev/null
    rc "$1" hset user:1 name ada email ada@example.org >/dev/null
    rc "$1" rpush queue a b c >/dev/null
    printf 'line1\nline2\0tail' | redis-cli -h 127.0.0.1 -p "$1" -x set blob >/dev/null
}

# The keys fill wrote are all there on port $1.
check_keys() {
    [ "$(redis-cli -h 127.0.0.1 -p "$1" get greeting)" = hello ]
    [ "$(redis-cli -h 127.0.0.1 -p "$1" hget user:1 email)" = ada@example.org ]
    [ "$(redis-cli -h 127.0.0.1 -p "$1" lrange queue 0 -1 | tr '\n' ' ')" = "a b c " ]
    [ "$(redis-cli -h 127.0.0.1 -p "$1" get blob | od -An -c | tr -s ' ')" = \
        "$(printf 'line1\nline2\0tail\n' | od -An -c | tr -s ' ')" ]
    [ "$(redis-cli -h 127.0.0.1 -p "$1" dbsize)" = 4 ]
}

@test "validate: Redis on a named volume is a data service; persistence off is reported, and a restart really empties it" {
    port=$((DK_RANGE_LO + 30))
    write_compose "$port" 'redis-server --save "" --appendonly no'
    up "$port"
    fill "$port"
    [ "$(rc "$port" config get save | sed -n 2p)" = "" ]
    run -1 --separate-stderr portcheck validate --format=tsv
    # A port of the redis family, in its block, held by the running container.
    [[ $output == *$'port\tcache\tredis\tcompose.yaml\t11\t127.0.0.1\t'"$port"$'\t6379\ttcp\tin-use\t'* ]]
    [[ $output == *$'finding\tcache\tredis\tcompose.yaml\t2\t'*$'\tredis-no-persistence\t'*"volume 'stack_redisdata'"* ]]
    run -1 --separate-stderr portcheck validate
    [[ $output == *"compose.yaml:2: cache: Redis keeps its data in volume 'stack_redisdata' but runs with persistence off"* ]]
    # What the finding says happens: a restart brings Redis back empty.
    "${COMPOSE[@]}" restart cache >/dev/null 2>&1
    dk_wait_redis "$port" 60
    [ "$(rc "$port" dbsize)" = 0 ]
    run -0 --separate-stderr docker run --rm -v stack_redisdata:/v:ro "$DK_IMAGE_BUSYBOX" ls -A /v
    [ -z "$output" ]
}

@test "validate: Redis with its default RDB saves, or with AOF on, is compliant; its keys outlive a restart" {
    port=$((DK_RANGE_LO + 31))
    write_compose "$port"
    up "$port"
    fill "$port"
    run -0 --separate-stderr portcheck validate
    [[ $output != *"persistence off"* ]]
    [[ $stderr == *"compliant"* ]]
    "${COMPOSE[@]}" restart cache >/dev/null 2>&1
    dk_wait_redis "$port" 60
    check_keys "$port"
    "${COMPOSE[@]}" down -v >/dev/null 2>&1
    write_compose "$port" '["redis-server", "--save", "", "--appendonly", "yes"]'
    up "$port"
    fill "$port"
    [ "$(rc "$port" config get appendonly | sed -n 2p)" = yes ]
    run -0 --separate-stderr portcheck validate
    [[ $output != *"persistence off"* ]]
    "${COMPOSE[@]}" restart cache >/dev/null 2>&1
    dk_wait_redis "$port" 60
    check_keys "$port"
}

# Start a lone Redis on volume $1, published on a free port; print the port.
probe_on() {
    local port
    port=$(dk_port_outside) || return 1
    docker network create t75probe >/dev/null 2>&1 || true
    docker run -d --name t75probe --network t75probe -p "127.0.0.1:$port:6379" -v "$1:/data" \
        "$DK_IMAGE_REDIS" >/dev/null || return 1
    dk_wait_redis "$port" 60 >&2 || { docker logs t75probe >&2; return 1; }
    echo "$port"
}

@test "db-snap --volume after SAVE; db-restore --volume into a fresh volume; a new Redis there has the keys" {
    export DBGUARD_BACKUP_DIR=$BATS_TEST_TMPDIR/backups
    port=$(dk_port_outside)
    write_compose "$port"
    up "$port"
    fill "$port"
    [ "$(rc "$port" save)" = OK ]
    run -0 --separate-stderr db-snap --volume=stack_redisdata --label=redis
    snap=$output
    [[ $snap == "$DBGUARD_BACKUP_DIR"/stack_redisdata_*_redis.tar.zst ]]
    grep -qx 'compose_project=stack' "$snap.meta"
    grep -qx 'compose_volume=redisdata' "$snap.meta"
    # The RDB file, as Redis wrote it, owned by the redis user.
    run -0 --separate-stderr sh -c "zstd -dc '$snap' | tar --numeric-owner -tvf -"
    [[ $output == *"997/997"*"./dump.rdb"* ]]
    run -0 --separate-stderr db-restore --volume=t75fresh --confirm=t75fresh "$snap"
    # The new volume's root is the redis user's, as in the snapshot.
    run -0 --separate-stderr docker run --rm -v t75fresh:/v:ro,nocopy "$DK_IMAGE_BUSYBOX" stat -c %u:%g /v
    [ "$output" = 997:997 ]
    p2=$(probe_on t75fresh)
    check_keys "$p2"
    # The original Redis never stopped; its volume is as it was.
    check_keys "$port"
}

@test "an AOF directory (Redis 7's multi-part AOF) snapshots and restores without a SAVE" {
    export DBGUARD_BACKUP_DIR=$BATS_TEST_TMPDIR/backups
    port=$(dk_port_outside)
    write_compose "$port" 'redis-server --save "" --appendonly yes --appendfsync always'
    up "$port"
    fill "$port"
    "${COMPOSE[@]}" stop cache >/dev/null 2>&1
    run -0 --separate-stderr db-snap --volume=stack_redisdata
    snap=$output
    run -0 --separate-stderr sh -c "zstd -dc '$snap' | tar -tf -"
    [[ $output == *"./appendonlydir/appendonly.aof.manifest"* ]]
    [[ $output != *"dump.rdb"* ]]
    # Back into its own volume after it was emptied, with the service stopped.
    docker run --rm -v stack_redisdata:/v "$DK_IMAGE_BUSYBOX" sh -c 'rm -rf /v/* /v/.[!.]*'
    run -0 --separate-stderr db-restore --volume=stack_redisdata --confirm=stack_redisdata "$snap"
    [[ $stderr == *"safety snapshot: "* ]]
    "${COMPOSE[@]}" start cache >/dev/null 2>&1
    dk_wait_redis "$port" 60
    check_keys "$port"
}

@test "db-restore --volume is refused while the Redis container uses the volume" {
    export DBGUARD_BACKUP_DIR=$BATS_TEST_TMPDIR/backups
    port=$(dk_port_outside)
    write_compose "$port"
    up "$port"
    fill "$port"
    rc "$port" save >/dev/null
    run -0 --separate-stderr db-snap -q --volume=stack_redisdata
    snap=$output
    run -1 --separate-stderr db-restore --volume=stack_redisdata --confirm=stack_redisdata "$snap"
    [[ $stderr == *"stack_cache_1"* || $stderr == *"stack-cache-1"* ]]
    check_keys "$port"
}

@test "apply --restart moves Redis into its block, verified by PING and its keys, even with persistence off" {
    old=$(dk_port_outside)
    new=$((DK_RANGE_LO + 30))
    # The hard case: Redis keeps nothing on disk by itself, so a recreated
    # container comes back empty unless Redis saves first.
    write_compose "$old" 'redis-server --save "" --appendonly no'
    up "$old"
    fill "$old"
    run -0 --separate-stderr timeout 600 portcheck apply --restart --confirm=apply --timeout=90
    echo "$stderr"
    [[ $stderr == *"phase 1/4: backup"* ]]
    [[ $stderr == *"cache: $BATS_TEST_TMPDIR/stack/backups/stack_redisdata_"*"_pre-port-move.tar.zst"* ]]
    [[ $stderr == *"cache: port $new is free"* ]]
    [[ $stderr == *"cache: Redis saved 4 keys to its volume (SAVE)"* ]]
    [[ $stderr == *"cache: answers on 127.0.0.1:$new, 4 keys, as in the backup"* ]]
    [[ $output == *"redis://localhost:$new"* ]]
    grep -qx "REDIS_PORT=$new" .env
    check_keys "$new"
    # The backup holds the keys written a moment ago, not only what Redis
    # had saved on its own (here: nothing).
    snap=$(ls backups/stack_redisdata_*_pre-port-move.tar.zst)
    run -0 --separate-stderr db-restore --volume=t75moved --confirm=t75moved "$snap"
    p2=$(probe_on t75moved)
    check_keys "$p2"
    docker rm -f t75probe >/dev/null
    ! (exec 9<>"/dev/tcp/127.0.0.1/$old") 2>/dev/null
    # And back: rollback --restart has Redis save before it recreates it too.
    rc "$new" set added-after-move 1 >/dev/null
    run -0 --separate-stderr timeout 600 portcheck rollback --restart --timeout=90
    [[ $stderr == *"cache: answers on 127.0.0.1:$old, 5 keys, as in the backup"* ]]
    [ "$(rc "$old" get added-after-move)" = 1 ]
    rc "$old" del added-after-move >/dev/null
    check_keys "$old"
}

@test "apply --restart of a Redis that wants a password: a warning, its volume as Redis last saved, PING verifies it" {
    old=$(dk_port_outside)
    new=$((DK_RANGE_LO + 30))
    write_compose "$old" 'redis-server --requirepass s3cret'
    export REDISCLI_AUTH=s3cret   # redis-cli's, never portcheck's
    up "$old"
    fill "$old"
    run -0 --separate-stderr timeout 600 portcheck apply --restart --confirm=apply --timeout=90
    echo "$stderr"
    [[ $stderr == *"cache: 127.0.0.1:$old wants a password: its volume holds what Redis last saved"* ]]
    [[ $stderr == *"cache: answers on 127.0.0.1:$new"* ]]
    [[ $stderr != *"keys, as in the backup"* ]]
    [[ $stderr != *s3cret* ]]
    # Its default RDB saves on shutdown, so the keys moved along: the volume
    # snapshot of the still empty volume left /data writable for Redis
    # (Docker's copy-up used to hand it to root, and the save failed).
    check_keys "$new"
}
