#!/usr/bin/env bats
# portcheck against the private Docker Engine: validate reports the
# empty-volume trap and a missing external volume; apply --restart moves a
# PostgreSQL and a MariaDB container into the protected range and verifies
# both answer with their data; a service whose healthcheck fails after the
# move is rolled back to its old ports, verified; rollback --restart.
# The protected range and the old ports are picked free at run time
# (dk_port_range), so two runs or a busy machine never meet on 7000.
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
    mkdir -p "$BATS_TEST_TMPDIR/stack"
    cd "$BATS_TEST_TMPDIR/stack"
    # The seed's case: PostgreSQL and MariaDB outside the range (5432/3306
    # there), moving into their blocks (7000 and 7040 in the default range).
    dk_port_range
    PGP=$(dk_port_outside) && MYP=$(dk_port_outside)
    while [ "$MYP" = "$PGP" ]; do MYP=$(dk_port_outside); done
    PGNEW=$DK_RANGE_LO MYNEW=$((DK_RANGE_LO + 40))
    printf 'PG_PORT=%s\nMY_PORT=%s\nPG_PASSWORD=pg-secret\n' "$PGP" "$MYP" >.env
}

teardown() {
    [ -z "${DK_SKIP_REASON:-}" ] || return 0
    cd "$BATS_TEST_TMPDIR/stack" 2>/dev/null && "${COMPOSE[@]}" -p stack down -v >/dev/null 2>&1 || true
}

write_compose() {
    cat >compose.yaml <<YAML
services:
  db:
    image: $DK_IMAGE_PG
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: \${PG_PASSWORD}
      POSTGRES_DB: app
      PORT_SEEN: "\${PG_PORT}"
    ports:
      - "127.0.0.1:\${PG_PORT}:5432"
    volumes:
      - pgdata:/var/lib/postgresql/data
    restart: unless-stopped
    healthcheck:
      test: ${1:-["CMD", "pg_isready", "-U", "app"]}
      interval: 1s
      retries: 3
  mysql:
    image: $DK_IMAGE_MY
    environment:
      MARIADB_ROOT_PASSWORD: root-secret
      MARIADB_DATABASE: shop
      MARIADB_USER: shop
      MARIADB_PASSWORD: shop-secret
    ports:
      - "127.0.0.1:\${MY_PORT}:3306"
    volumes:
      - mydata:/var/lib/mysql
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "mariadb-admin", "ping", "-h", "127.0.0.1", "-u", "shop", "-pshop-secret"]
      interval: 1s
      retries: 30
volumes:
  pgdata:
  mydata:
YAML
}

pg_at() {
    PGPASSWORD=pg-secret "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$1" -U app -d app -c "$2"
}

my_at() {
    MYSQL_PWD=shop-secret mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$1" -u shop -N -B -e "$2" shop
}

start_stack() {
    "${COMPOSE[@]}" up -d >/dev/null 2>&1
    PGUSER=app PGPASSWORD=pg-secret dk_wait_pg "$PGP"
    MYSQL_PWD=shop-secret dk_wait_my "$MYP" shop
    dk_wait_healthy "$("${COMPOSE[@]}" ps -q db)" 60
    dk_wait_healthy "$("${COMPOSE[@]}" ps -q mysql)" 60
    pg_at "$PGP" "CREATE TABLE users (id int); INSERT INTO users SELECT generate_series(1, 120)"
    my_at "$MYP" "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1),(2),(3)"
}

@test "apply --restart moves PostgreSQL and MariaDB into the range; both answer with their data" {
    write_compose
    start_stack
    run -0 --separate-stderr timeout 600 portcheck apply --restart --confirm=apply --timeout=90
    echo "$stderr"
    [[ $stderr == *"phase 1/4: backup"* ]] && [[ $stderr == *"phase 2/4: validation"* ]]
    [[ $stderr == *"phase 3/4: migration"* ]] && [[ $stderr == *"phase 4/4: verification"* ]]
    [[ $stderr == *"db: answers on 127.0.0.1:$PGNEW, 1 tables, 120 rows, as in the snapshot"* ]]
    [[ $stderr == *"mysql: answers on 127.0.0.1:$MYNEW, 1 tables, 3 rows, as in the snapshot"* ]]
    [[ $output == *"postgres://localhost:$PGNEW"* ]] && [[ $output == *"mysql://localhost:$MYNEW"* ]]
    grep -qx "PG_PORT=$PGNEW" .env && grep -qx "MY_PORT=$MYNEW" .env
    ls backups/app_*_pre-port-move.sql.zst backups/shop_*_pre-port-move.sql.zst
    run -0 --separate-stderr pg_at "$PGNEW" "SELECT count(*) FROM users"
    [ "$output" = 120 ]
    run -0 --separate-stderr my_at "$MYNEW" "SELECT count(*) FROM orders"
    [ "$output" = 3 ]
    # The old ports are free again.
    ! (exec 9<>/dev/tcp/127.0.0.1/$PGP) 2>/dev/null
    # And back, by request.
    run -0 --separate-stderr timeout 600 portcheck rollback --restart --timeout=90
    [[ $stderr == *"db: answers on 127.0.0.1:$PGP"* ]]
    run -0 --separate-stderr pg_at "$PGP" "SELECT count(*) FROM users"
    [ "$output" = 120 ]
}

@test "a healthcheck that fails after the move: rolled back, on the old ports, verified (exit 1)" {
    # Healthy only while the published port is the old one.
    write_compose "[\"CMD-SHELL\", \"[ \\\"\$\$PORT_SEEN\\\" = $PGP ] && pg_isready -U app\"]"
    start_stack
    run -1 --separate-stderr timeout 600 portcheck apply --restart --confirm=apply --timeout=30
    echo "$stderr"
    [[ $stderr == *"rolled back: health of 'db': its container is unhealthy"* ]]
    [[ $stderr == *"the services answer on their old ports, verified"* ]]
    grep -qx "PG_PORT=$PGP" .env
    [ ! -e .env.backup ]
    run -0 --separate-stderr pg_at "$PGP" "SELECT count(*) FROM users"
    [ "$output" = 120 ]
    run -0 --separate-stderr my_at "$MYP" "SELECT count(*) FROM orders"
    [ "$output" = 3 ]
}

@test "apply --restart passes over a new port that something else holds" {
    write_compose
    start_stack
    docker network create t73blocker >/dev/null
    # The first port of the PostgreSQL block taken, by this container.
    docker run -d --name t73blocker --network t73blocker -p "127.0.0.1:$PGNEW:80" "$DK_IMAGE_BUSYBOX" \
        httpd -f -p 80 >/dev/null
    wait_until 10 port_open "$PGNEW"
    run -0 --separate-stderr timeout 600 portcheck apply --restart --confirm=apply --timeout=90
    docker rm -f t73blocker >/dev/null 2>&1 || true
    newport=$(sed -n 's/^PG_PORT=//p' .env)
    [ "$newport" -gt "$PGNEW" ] && [ "$newport" -le "$DK_RANGE_HI" ]
    [[ $stderr == *"db: port $newport is free"* ]]
    run -0 --separate-stderr pg_at "$newport" "SELECT count(*) FROM users"
    [ "$output" = 120 ]
}

@test "validate reports the empty-volume trap and a missing external volume" {
    write_compose
    start_stack
    "${COMPOSE[@]}" down >/dev/null 2>&1
    mkdir ../renamed && cp compose.yaml .env ../renamed/ && cd ../renamed
    run -1 --separate-stderr portcheck validate
    [[ $output == *"empty-volume"* || $output == *"would start on new empty volume 'renamed_pgdata'"* ]]
    [[ $output == *"volume 'stack_pgdata' of project 'stack' holds its data"* ]]
    [[ $output == *"would start on new empty volume 'renamed_mydata'"* ]]
    cat >>compose.yaml <<'YAML'
  cache:
    external: true
    name: t73-no-such-volume
YAML
    sed -i 's|      - pgdata:/var/lib/postgresql/data|      - cache:/var/lib/postgresql/data|' compose.yaml
    run -1 --separate-stderr portcheck validate
    [[ $output == *"external volume 't73-no-such-volume' of service 'db' does not exist"* ]]
}

@test "apply --restart of a stopped stack snapshots the volumes, then starts it on the new ports" {
    write_compose
    start_stack
    "${COMPOSE[@]}" stop >/dev/null 2>&1
    run -0 --separate-stderr timeout 600 portcheck apply --restart --confirm=apply --timeout=90
    [[ $stderr == *"db: not running on port $PGP; snapshotting its volume"* ]]
    [[ $stderr == *"db: $BATS_TEST_TMPDIR/stack/backups/stack_pgdata_"*"_pre-port-move.tar.zst"* ]]
    [[ $stderr == *"db: answers on 127.0.0.1:$PGNEW, 1 tables, 120 rows"* ]]
    run -0 --separate-stderr pg_at "$PGNEW" "SELECT count(*) FROM users"
    [ "$output" = 120 ]
}

@test "apply --restart with no Compose on PATH changes nothing and names both to install" {
    write_compose
    # PATH with the docker CLI but without docker-compose; the CLI's own
    # Compose plugin, if this machine has one, cannot be hidden this way.
    mkdir -p "$BATS_TEST_TMPDIR/nocompose"
    ln -s "$(command -v docker)" "$BATS_TEST_TMPDIR/nocompose/docker"
    if PATH=$BATS_TEST_TMPDIR/nocompose docker compose version >/dev/null 2>&1; then
        skip "the docker CLI here has the Compose v2 plugin"
    fi
    cp .env .env.before
    run -1 --separate-stderr env PATH="$BATS_TEST_TMPDIR/nocompose:$DBGUARD_BIN" \
        portcheck apply --restart --confirm=apply --timeout=30
    echo "$stderr"
    [[ $stderr == *"nothing was changed: backup: no Docker Compose: neither 'docker compose' (the v2 plugin"* ]]
    [[ $stderr == *"nor 'docker-compose' (v1"* ]]
    cmp .env .env.before
    [ ! -e .env.backup ]
    # rollback --restart puts the files back, then cannot restart.
    cp .env .env.backup
    run -1 --separate-stderr env PATH="$BATS_TEST_TMPDIR/nocompose:$DBGUARD_BIN" \
        portcheck rollback --restart --timeout=30
    [[ $stderr == *"the files are back, but the restart failed: restart: no Docker Compose: neither"* ]]
}
