#!/usr/bin/env bats
# safe-run in front of destructive Docker commands and `compose up`, against
# the private Docker Engine: the volumes a command deletes are snapshotted
# first (and come back with db-restore), a failed snapshot refuses the
# command, and `up` under another project name is caught before it starts
# on an empty volume.
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
    docker_test_setup
    mkdir -p "$BATS_TEST_TMPDIR/shop"
    cd "$BATS_TEST_TMPDIR/shop"
    PORT=$(free_port)
    cat >compose.yaml <<YAML
services:
  db:
    image: $DK_IMAGE_PG
    environment:
      POSTGRES_PASSWORD: secret
      POSTGRES_USER: app
      POSTGRES_DB: app
    ports:
      - "127.0.0.1:$PORT:5432"
    volumes:
      - dbdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "app"]
      interval: 1s
      retries: 60
volumes:
  dbdata:
YAML
}

teardown() {
    [ -z "${DK_SKIP_REASON:-}" ] || return 0
    cd "$BATS_TEST_TMPDIR/shop" 2>/dev/null && "${COMPOSE[@]}" -p shop down -v >/dev/null 2>&1
    "${COMPOSE[@]}" -p other down -v >/dev/null 2>&1 || true
}

psql_app() {
    PGPASSWORD=secret "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$PORT" -U app -d app -c "$1"
}

start_shop() {
    "${COMPOSE[@]}" -p "${1:-shop}" up -d >/dev/null 2>&1
    PGUSER=app PGPASSWORD=secret dk_wait_pg "$PORT"
}

@test "safe-run docker compose down -v: a volume snapshot first, and db-restore brings the data back" {
    start_shop
    psql_app "CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 250)"
    run -0 --separate-stderr safe-run "${COMPOSE[@]}" -p shop down -v
    [[ $stderr == *"snapshot of volume 'shop_dbdata': $BATS_TEST_TMPDIR/shop/backups/shop_dbdata_"*"_safe-run.tar.zst"* ]]
    [[ $stderr == *"to bring volume 'shop_dbdata' back: db-restore --volume=shop_dbdata --confirm=shop_dbdata"* ]]
    run -1 --separate-stderr docker volume inspect shop_dbdata
    grep -q "^reason=safe-run: ${COMPOSE[*]} -p shop down -v\$" backups/shop_dbdata_*.tar.zst.meta
    run -0 --separate-stderr db-restore --volume=shop_dbdata --confirm=shop_dbdata
    start_shop
    run -0 --separate-stderr psql_app "SELECT count(*) FROM orders"
    [ "$output" = 250 ]
}

# The files of a volume, each with its checksum, mode, owner and size (a
# helper container reads them; the volume's containers are stopped).
volume_digest() {
    docker run --rm --network none -v "$1:/v:ro" "$DK_IMAGE_BUSYBOX" \
        sh -c 'cd /v && find . | sort | while read -r f; do
                   if [ -f "$f" ] && [ ! -L "$f" ]; then s=$(md5sum < "$f"); else s=-; fi
                   echo "$(stat -c "%A %u:%g %s" "$f") $s $f"
               done'
}

@test "safe-run --undo puts the volumes of a compose down -v back, byte for byte; --journal shows them" {
    start_shop
    psql_app "CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 250)"
    "${COMPOSE[@]}" -p shop stop >/dev/null 2>&1
    before=$(volume_digest shop_dbdata)
    run -0 --separate-stderr safe-run "${COMPOSE[@]}" -p shop down -v
    [[ $stderr == *"to undo: safe-run --undo"* ]]
    run -1 --separate-stderr docker volume inspect shop_dbdata
    run -0 --separate-stderr safe-run --journal
    [[ $output == *"volume shop_dbdata (volume)"* ]]
    [[ $output == *"snapshot: $BATS_TEST_TMPDIR/shop/backups/shop_dbdata_"*"_safe-run.tar.zst"* ]]
    run -0 --separate-stderr safe-run --undo --dry-run
    [[ $stderr == *"volume shop_dbdata <- '$BATS_TEST_TMPDIR/shop/backups/shop_dbdata_"* ]]
    run -6 --separate-stderr safe-run --undo < /dev/null
    run -1 --separate-stderr docker volume inspect shop_dbdata
    run -0 --separate-stderr safe-run --undo --confirm=shop_dbdata
    [[ $stderr == *"undone: 1 volume is back as it was before '${COMPOSE[*]} -p shop down -v'"* ]]
    [ "$(volume_digest shop_dbdata)" = "$before" ]
    run -0 --separate-stderr safe-run --journal -n 1 --format=tsv
    [ "$(echo "${lines[1]}" | cut -f6,7,11)" = $'safe-run --undo 1\tvolume shop_dbdata\tundo' ]
    start_shop
    run -0 --separate-stderr psql_app "SELECT count(*) FROM orders"
    [ "$output" = 250 ]
}

@test "portcheck volumes lists the database services' volumes, and the trap, for any project name" {
    start_shop
    run -0 --separate-stderr portcheck volumes --format=tsv
    [ "${lines[0]}" = $'project\tservice\tkey\tvolume\tkind\texists\tbytes\tdata_in\tfinding' ]
    [[ ${lines[1]} == $'shop\tdb\tdbdata\tshop_dbdata\tnamed\tyes\t'[1-9]*$'\t\t' ]]
    run -0 --separate-stderr portcheck volumes -p other --format=json
    [[ $output == '[{"project":"other","service":"db","key":"dbdata","volume":"other_dbdata","kind":"named","exists":false,"bytes":null,"data_in":"shop_dbdata","finding":"service '* ]]
    [[ $output == *"would start on new empty volume 'other_dbdata'"* ]]
    run -0 --separate-stderr portcheck volumes -p other
    [[ $output == *"other_dbdata"*"named"*"missing"* ]]
    [[ $output == *"while volume 'shop_dbdata' of project 'shop' holds its data"* ]]
    run -2 --separate-stderr portcheck validate -p other
    [[ $stderr == *"-p goes with volumes"* ]]
}

@test "safe-run docker volume rm: snapshotted first; a failed snapshot refuses it (125) unless --no-snap" {
    docker volume create t72keep >/dev/null
    docker run --rm -v t72keep:/v "$DK_IMAGE_BUSYBOX" sh -c 'echo precious > /v/f'
    DBGUARD_DOCKER_HELPER_IMAGE=dbguard-test/no-such-image:1 run -125 --separate-stderr \
        safe-run docker volume rm t72keep
    [[ $stderr == *"the snapshot of volume 't72keep' failed"* ]]
    [[ $stderr == *"refusing to run 'docker volume rm t72keep'"* ]]
    run -0 --separate-stderr docker volume inspect t72keep
    run -0 --separate-stderr safe-run docker volume rm t72keep
    [[ $stderr == *"snapshot of volume 't72keep': "*"/backups/t72keep_"* ]]
    run -1 --separate-stderr docker volume inspect t72keep
    run -0 --separate-stderr db-restore --volume=t72keep --confirm=t72keep
    run -0 --separate-stderr docker run --rm -v t72keep:/v "$DK_IMAGE_BUSYBOX" cat /v/f
    [ "$output" = precious ]
    docker volume create t72gone >/dev/null
    DBGUARD_DOCKER_HELPER_IMAGE=dbguard-test/no-such-image:1 run -0 --separate-stderr \
        safe-run --no-snap docker volume rm t72gone
}

@test "safe-run -R docker volume rm: the command fails after deleting a volume, and the volume comes back" {
    docker volume create t72roll >/dev/null
    docker run --rm -v t72roll:/v "$DK_IMAGE_BUSYBOX" sh -c 'echo precious > /v/f; chmod 600 /v/f'
    # docker removes t72roll, then fails on the volume that does not exist.
    run -1 --separate-stderr safe-run -R docker volume rm t72roll t72no-such-volume
    [[ $stderr == *"snapshot of volume 't72roll': "* ]]
    [[ $stderr == *"rolled back: volume t72roll is back as it was before the command"* ]]
    run -0 --separate-stderr docker run --rm -v t72roll:/v "$DK_IMAGE_BUSYBOX" sh -c 'cat /v/f; stat -c %a /v/f'
    [ "$output" = "precious
600" ]
    docker volume rm t72roll >/dev/null
}

@test "safe-run docker volume prune snapshots the unused volumes it would remove" {
    docker volume create t72unused >/dev/null
    docker run --rm -v t72unused:/v "$DK_IMAGE_BUSYBOX" sh -c 'echo x > /v/f'
    run -0 --separate-stderr safe-run --dry-run docker volume prune -f
    [[ $output == *"volume:   t72unused (deleted by the command)"* ]]
    run -0 --separate-stderr safe-run docker volume prune -f
    [[ $stderr == *"snapshot of volume 't72unused'"* ]]
    run -1 --separate-stderr docker volume inspect t72unused
}

@test "compose up under another project name is caught before it starts on an empty volume" {
    start_shop
    psql_app "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)"
    "${COMPOSE[@]}" -p shop down >/dev/null 2>&1
    run -125 --separate-stderr safe-run "${COMPOSE[@]}" -p other up -d
    [[ $stderr == *"service 'db' would start on new empty volume 'other_dbdata' (not created yet) while volume 'shop_dbdata' of project 'shop' holds its data"* ]]
    [[ $stderr == *"'external: true' with 'name: shop_dbdata'"* ]]
    [[ $stderr == *"refusing to run"* ]]
    run -1 --separate-stderr docker volume inspect other_dbdata
    # The old name is fine.
    run -0 --separate-stderr safe-run "${COMPOSE[@]}" -p shop up -d
    PGUSER=app PGPASSWORD=secret dk_wait_pg "$PORT"
    "${COMPOSE[@]}" -p shop down >/dev/null 2>&1
    # Confirmed by the volume's name, it runs.
    run -0 --separate-stderr safe-run --confirm=other_dbdata "${COMPOSE[@]}" -p other up -d
    run -0 --separate-stderr docker volume inspect other_dbdata
}

@test "a renamed project directory is the same trap: COMPOSE_PROJECT_NAME and the directory name count" {
    start_shop
    psql_app "CREATE TABLE t (x int)"
    "${COMPOSE[@]}" -p shop down >/dev/null 2>&1
    cd "$BATS_TEST_TMPDIR"
    mv shop shop-renamed
    cd shop-renamed
    run -125 --separate-stderr safe-run "${COMPOSE[@]}" up -d
    [[ $stderr == *"new empty volume 'shop-renamed_dbdata'"* ]]
    COMPOSE_PROJECT_NAME=shop run -0 --separate-stderr safe-run "${COMPOSE[@]}" up -d
    "${COMPOSE[@]}" -p shop down >/dev/null 2>&1
    cd "$BATS_TEST_TMPDIR" && mv shop-renamed shop
}

@test "safe-run docker rm -v snapshots the container's anonymous volume (an image's VOLUME)" {
    docker run -d --name t72anon --network none -v /data "$DK_IMAGE_BUSYBOX" \
        sh -c 'echo rows > /data/table; exec sleep 600' >/dev/null
    anon=$(docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' t72anon)
    [ "${#anon}" -eq 64 ]
    docker stop -t 1 t72anon >/dev/null
    run -0 --separate-stderr safe-run docker rm -v t72anon
    [[ $stderr == *"snapshot of volume '$anon'"* ]]
    run -1 --separate-stderr docker volume inspect "$anon"
    run -0 --separate-stderr db-restore --volume="$anon" --confirm="$anon"
    run -0 --separate-stderr docker run --rm -v "$anon:/v" "$DK_IMAGE_BUSYBOX" cat /v/table
    [ "$output" = rows ]
}
