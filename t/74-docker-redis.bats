#!/usr/bin/env bats
# Redis as a data service in a compose file: portcheck validate reports a
# Redis whose data sits in a named volume while RDB and AOF are both off.
# Read from the files alone: no Docker Engine is needed (DOCKER_HOST points
# nowhere, so the engine checks are left out).
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    export DOCKER_HOST=unix:///nonexistent/docker.sock
    mkdir -p "$BATS_TEST_TMPDIR/app"
    cd "$BATS_TEST_TMPDIR/app"
}

compose_with() {
    cat >compose.yaml <<YAML
services:
  cache:
    image: redis:7
    command: $1
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
    ports:
      - "127.0.0.1:7030:6379"
    volumes:
      - ${2:-redisdata}:/data
volumes:
  redisdata:
YAML
}

@test "Redis with --save \"\" and no AOF on a named volume is a finding" {
    compose_with 'redis-server --save "" --appendonly no'
    run -1 --separate-stderr portcheck validate
    [[ $output == *"compose.yaml:2: cache: Redis keeps its data in volume 'app_redisdata' but runs with persistence off"* ]]
    run -1 --separate-stderr portcheck validate --format=tsv
    [[ $output == *"redis-no-persistence"* ]]
}

@test "the exec form of the command counts the same" {
    compose_with '["redis-server", "--save", "", "--appendonly", "no"]'
    run -1 --separate-stderr portcheck validate
    [[ $output == *"runs with persistence off"* ]]
}

@test "AOF on, RDB on, or a configuration file: no persistence finding" {
    compose_with '["redis-server", "--save", "", "--appendonly", "yes"]'
    run -0 --separate-stderr portcheck validate
    [[ $output != *"persistence off"* ]]
    compose_with 'redis-server --save 60 1'
    run -0 --separate-stderr portcheck validate
    compose_with 'redis-server /usr/local/etc/redis/redis.conf'
    run -0 --separate-stderr portcheck validate
}

@test "no named volume: nothing to lose on disk, so no persistence finding" {
    compose_with 'redis-server --save ""' /srv/redis
    sed -i '/^volumes:/,$d' compose.yaml
    run -0 --separate-stderr portcheck validate
    [[ $output != *"persistence off"* ]]
}
