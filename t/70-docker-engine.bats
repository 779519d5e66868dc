#!/usr/bin/env bats
# The test harness's private Docker Engine: it runs containers from images
# built on this machine, publishes ports on 127.0.0.1 only, serves
# PostgreSQL and MariaDB from named volumes, and Compose drives it.
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
}

@test "the private engine answers on its own socket, not the host's" {
    [[ $DOCKER_HOST == unix:///tmp/dbguard-dk.*/docker.sock ]]
    run -0 --separate-stderr docker info -f '{{.DockerRootDir}}'
    [ "$output" = "$DK_DIR/data" ]
}

@test "a BusyBox container runs without network and sees a read-only volume" {
    run -0 --separate-stderr docker volume create t70vol
    run -0 --separate-stderr docker run --rm -v t70vol:/v "$DK_IMAGE_BUSYBOX" sh -c 'echo hi > /v/f'
    run -0 --separate-stderr docker run --rm --network none -v t70vol:/v:ro "$DK_IMAGE_BUSYBOX" \
        sh -c 'cat /v/f; ip -o link | grep -vc " lo:"; touch /v/g 2>/dev/null && echo writable || echo read-only'
    [ "${lines[0]}" = hi ] && [ "${lines[1]}" = 0 ] && [ "${lines[2]}" = read-only ]
}

@test "PostgreSQL in a container keeps its data in a named volume, published on 127.0.0.1" {
    local port
    port=$(free_port)
    run -0 --separate-stderr docker network create t70net
    run -0 --separate-stderr docker run -d --name t70pg --network t70net -p "127.0.0.1:$port:5432" \
        -e POSTGRES_PASSWORD=secret -e POSTGRES_USER=app -e POSTGRES_DB=app \
        -v t70pgdata:/var/lib/postgresql/data "$DK_IMAGE_PG"
    PGUSER=app PGPASSWORD=secret PGDATABASE=app dk_wait_pg "$port"
    run -0 --separate-stderr docker port t70pg 5432
    [ "$output" = "127.0.0.1:$port" ]
    PGUSER=app PGPASSWORD=secret run -0 --separate-stderr "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$port" \
        -d app -c 'CREATE TABLE t (x int); INSERT INTO t VALUES (1),(2); SELECT count(*) FROM t'
    [ "$output" = 2 ]
    docker rm -f t70pg >/dev/null
    run -0 --separate-stderr docker run -d --name t70pg2 --network t70net -p "127.0.0.1:$port:5432" \
        -v t70pgdata:/var/lib/postgresql/data "$DK_IMAGE_PG"
    PGUSER=app PGPASSWORD=secret PGDATABASE=app dk_wait_pg "$port"
    PGUSER=app PGPASSWORD=secret run -0 --separate-stderr "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$port" \
        -d app -c 'SELECT count(*) FROM t'
    [ "$output" = 2 ]
    docker rm -f t70pg2 >/dev/null
}

@test "MariaDB in a container takes its user's password on a published port" {
    local port
    port=$(free_port)
    run -0 --separate-stderr docker network create t70mynet
    run -0 --separate-stderr docker run -d --name t70my --network t70mynet -p "127.0.0.1:$port:3306" -e MARIADB_ROOT_PASSWORD=rootpw \
        -e MARIADB_DATABASE=shop -e MARIADB_USER=shop -e MARIADB_PASSWORD='s#cr3t x' \
        -v t70mydata:/var/lib/mysql "$DK_IMAGE_MY"
    MYSQL_PWD='s#cr3t x' dk_wait_my "$port" shop
    MYSQL_PWD='s#cr3t x' run -0 --separate-stderr mariadb --no-defaults --protocol=tcp -h 127.0.0.1 \
        -P "$port" -u shop -N -B -e 'CREATE TABLE t (x int); INSERT INTO t VALUES (1); SELECT count(*) FROM t' shop
    [ "$output" = 1 ]
    docker rm -f t70my >/dev/null
}

@test "Compose starts a project whose volumes carry its labels" {
    local port
    port=$(free_port)
    mkdir -p "$BATS_TEST_TMPDIR/shop"
    cd "$BATS_TEST_TMPDIR/shop"
    cat >compose.yaml <<YAML
services:
  db:
    image: $DK_IMAGE_PG
    environment:
      POSTGRES_PASSWORD: secret
    ports:
      - "127.0.0.1:$port:5432"
    volumes:
      - dbdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "postgres"]
      interval: 1s
      retries: 60
volumes:
  dbdata:
YAML
    run -0 --separate-stderr dk_compose -p shop up -d
    dk_wait_healthy "$(dk_compose -p shop ps -q db)" 60
    run -0 --separate-stderr docker volume inspect -f \
        '{{index .Labels "com.docker.compose.project"}} {{index .Labels "com.docker.compose.volume"}}' shop_dbdata
    [ "$output" = "shop dbdata" ]
    run -0 --separate-stderr dk_compose -p shop down -v
    run -1 --separate-stderr docker volume inspect shop_dbdata
}

@test "a shell that fails without docker_stop takes its engine and its containers along (traps.bash)" {
    # A second engine, in a shell that also started a PostgreSQL server and
    # had an EXIT trap of its own: all of it goes, and that trap still runs.
    script='source "$1/servers.bash"; source "$1/docker.bash"
        trap "echo own trap ran >>\"$2.trap\"" EXIT
        pg_start || exit 9
        docker_start && [ -z "$DK_SKIP_REASON" ] || exit 9
        docker run -d --network none --name t70left "$DK_IMAGE_BUSYBOX" sleep 300 >/dev/null || exit 9
        echo "$DK_PID $DK_DIR $PG_PID $PG_DIR" >"$2"
        false'
    run -1 --separate-stderr env -u DOCKER_HOST -u DK_PID -u DK_DIR BATS_RUN_TMPDIR="$BATS_RUN_TMPDIR" \
        timeout 300 bash -c "set -e; $script" bash "$BATS_TEST_DIRNAME/helpers" "$BATS_TEST_TMPDIR/left"
    read -r dkpid dkdir pgpid pgdir <"$BATS_TEST_TMPDIR/left"
    ! _dbg_pid_alive "$dkpid"
    ! _dbg_pid_alive "$pgpid"
    [ ! -e "$dkdir" ] && [ ! -e "$pgdir" ]
    # No process of that engine's is left (its containerd, the sleep).
    run -1 --separate-stderr pgrep -f "$dkdir"
    [ "$(cat "$BATS_TEST_TMPDIR/left.trap")" = "own trap ran" ]
}
