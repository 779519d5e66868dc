#!/usr/bin/env bats
# safe-run: command lines classed by what they do (safe-run(1), COMMAND
# CLASSES), and destructive Docker commands guarded whatever their spelling.
# The docker here is a recording fake: these tests are about how a command
# line is classified and whether it runs, not about Docker.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    pg_start
}

teardown_file() {
    pg_stop
}

setup() {
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj/database" "$proj/fakebin"
    cd "$proj"
    sqlite_fixture database/app.sqlite
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env
    for p in docker docker-compose sail sudo; do
        printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\n' "$p" "$proj" > "fakebin/$p"
        chmod +x "fakebin/$p"
    done
    mkdir -p vendor/bin
    cp fakebin/sail vendor/bin/sail
}

class_of() {
    run -0 --separate-stderr safe-run --dry-run "$@"
    printf '%s\n' "$output" | sed -n 's/^class: *\([a-z-]*\).*/\1/p'
}

# The calls of the recording fakes, less the questions safe-run's volume
# guard asks the (fake) engine before a Docker command (docker version).
command_calls() {
    [ ! -e calls ] || grep -v '^docker version ' calls || true
}

@test "Docker command lines are classed by their subcommand and flags, not their first words" {
    export PATH="$proj/fakebin:$PATH"
    while IFS='|' read -r want cmd; do
        # shellcheck disable=SC2086
        got=$(class_of $cmd)
        [ "$got" = "$want" ] || { echo "'$cmd': $got, want $want"; return 1; }
    done <<'EOF'
destructive-docker|docker compose down -v
destructive-docker|docker compose -f x.yml down -v
destructive-docker|docker compose --file=x.yml -p shop down --volumes
destructive-docker|docker compose -p shop down -v
destructive-docker|docker compose --profile db down -v --remove-orphans
destructive-docker|docker compose --env-file .env.docker down -t 5 -v
destructive-docker|docker --context remote compose --project-directory . down -v
destructive-docker|sudo docker compose down -v
destructive-docker|sudo -u root -E docker compose -f a.yml down -v
destructive-docker|env COMPOSE_PROJECT_NAME=shop docker compose down -v
destructive-docker|docker-compose -f docker-compose.yml down -v
destructive-docker|docker-compose --project-name shop down --volumes
destructive-docker|sail down -v
destructive-docker|./vendor/bin/sail down -v
destructive-docker|docker compose rm -s -v
destructive-docker|docker compose rm -fsv db
destructive-docker|docker volume rm shop_db
destructive-docker|docker volume prune -f
destructive-docker|docker system prune --volumes
destructive-docker|docker rm -fv db
destructive-docker|docker container rm -v db
other|docker compose down
other|docker compose -f x.yml down --remove-orphans
other|docker compose up -d
other|docker compose -v
other|docker system prune
other|docker volume ls
other|sail up -d
other|docker compose --dry-run down -v
EOF
}

@test "framework commands are classed by what they do" {
    while IFS='|' read -r want cmd; do
        # shellcheck disable=SC2086
        got=$(class_of $cmd)
        [ "$got" = "$want" ] || { echo "'$cmd': $got, want $want"; return 1; }
    done <<'EOF'
migration|bundle exec rails db:migrate
migration|bin/rails db:migrate
wipe|bin/rails db:reset
seed|bundle exec rake db:seed
test|bundle exec rspec
test|python manage.py test
migration|python manage.py migrate
wipe|python3 manage.py flush --no-input
test|composer test
test|sail artisan test
wipe|sail artisan migrate:fresh
wipe|./vendor/bin/sail artisan migrate:fresh --seed
wipe|php artisan migrate:fresh
migration|php artisan migrate
seed|php artisan db:seed
wipe|npx prisma migrate reset
wipe|npx prisma db push --force-reset
migration|npx prisma db push
migration|npx prisma migrate dev
seed|npx prisma db seed
migration|npx knex migrate:latest
seed|npx knex seed:run
migration|npx sequelize-cli db:migrate
migration|npx drizzle-kit push
migration|pnpm exec drizzle-kit migrate
wipe|yarn prisma migrate reset
test|npm test
test|vendor/bin/phpunit
client|psql
other|ls -l
EOF
}

@test "the configured patterns still add classes" {
    printf '[safe-run]\nwipe_commands = make reset-db*\ndocker_destructive_commands = ./scripts/nuke*\n' > .dbguard.conf
    [ "$(class_of make reset-db)" = wipe ]
    [ "$(class_of ./scripts/nuke now)" = destructive-docker ]
    [ "$(class_of make build)" = other ]
}

@test "docker compose -f x.yml down -v runs only after the snapshot; compose down without -v is not guarded" {
    export PATH="$proj/fakebin:$PATH"
    run -0 --separate-stderr safe-run docker compose -f x.yml down -v
    [ "$(command_calls)" = "docker compose -f x.yml down -v" ]
    [ -n "$(ls backups/app_*.sqlite* | grep -v meta)" ]
    [ "$(tail -n 1 backups/journal | cut -f10)" = destructive-docker ]
    [ "$stderr" = "safe-run: to undo: safe-run --undo" ]
    rm -f calls
    run -0 --separate-stderr safe-run sudo docker compose down
    [ "$(command_calls)" = "sudo docker compose down" ]
    [ -z "$stderr" ]
}

@test "a destructive Docker command is refused when a database cannot be snapshotted, unless --no-snap" {
    export PATH="$proj/fakebin:$PATH"
    port=$(free_port)
    # The compose database is stopped: unreachable, and exactly what down -v destroys.
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=shop\nDB_USERNAME=app\n' "$port" > .env
    run -125 --separate-stderr safe-run docker compose -p shop down -v
    [ -z "$(command_calls)" ]
    [[ $stderr == *"refusing to run"*"shop"* ]]
    run -125 --separate-stderr safe-run --dry-run docker compose -p shop down -v
    [[ $output == *"verdict:  would refuse"* ]]
    [[ $output == *"reason:   the snapshot of postgres app@127.0.0.1:$port/shop would fail"* ]]
    run -0 --separate-stderr safe-run --no-snap docker compose -p shop down -v
    [ "$(command_calls)" = "docker compose -p shop down -v" ]
}

@test "a destructive Docker command with a second database down is refused too, naming it" {
    export PATH="$proj/fakebin:$PATH"
    port=$(free_port)
    printf 'DB_CONNECTION=sqlite\nDB_DATABASE=database/app.sqlite\n' > .env.local
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=cache\nDB_USERNAME=app\n' "$port" > .env
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 3 ]
    run -125 --separate-stderr safe-run docker volume rm shop_pg
    [ -z "$(command_calls)" ]
    [[ $stderr == *"refusing to run"*"127.0.0.1:$port/cache"* ]]
    # The same second database down does not stop an ordinary command.
    run -0 --separate-stderr safe-run true
    [[ $stderr == *"127.0.0.1:$port/cache is unreachable from here; not snapshotted"* ]]
}

@test "--dry-run and the real run agree: a database that is down is 'would refuse'" {
    port=$(free_port)
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=app\nDB_USERNAME=app\n' "$port" > .env
    export PATH="$proj/fakebin:$PATH"
    run -125 --separate-stderr safe-run --dry-run docker compose up -d
    [[ $output == *"verdict:  would refuse"* ]]
    run -125 --separate-stderr safe-run docker compose up -d
    [ -z "$(command_calls)" ]
    # And one that is up is "would run" for both.
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=%s\nDB_USERNAME=%s\nDB_PASSWORD=%s\n' \
        "$PGPORT" "$PGDATABASE" "$PGUSER" "$PGPASSWORD" > .env
    run -0 --separate-stderr safe-run --dry-run docker compose up -d
    [[ $output == *"verdict:  would run"* ]]
    run -0 --separate-stderr safe-run docker compose up -d
    [ "$(command_calls)" = "docker compose up -d" ]
}

@test "a server database that does not exist yet is no refusal: the command runs, the journal says so" {
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=not_created_yet\nDB_USERNAME=%s\nDB_PASSWORD=%s\n' \
        "$PGPORT" "$PGUSER" "$PGPASSWORD" > .env
    run -0 --separate-stderr safe-run -v sh -c "echo migrated"
    [ "$output" = migrated ]
    [[ $stderr == *"not_created_yet does not exist yet: nothing to snapshot"* ]]
    [[ $(tail -n 1 backups/journal | cut -f12) == *"not_created_yet does not exist yet"* ]]
    run -0 --separate-stderr safe-run --dry-run php artisan migrate
    [[ $output == *"verdict:  would run"* ]]
    [[ $output == *"snapshot: none: "*"not_created_yet does not exist yet"* ]]
    # Any other failure still refuses: a wrong password.
    printf 'DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=%s\nDB_USERNAME=%s\nDB_PASSWORD=wrong\n' \
        "$PGPORT" "$PGDATABASE" "$PGUSER" > .env
    run -125 --separate-stderr safe-run touch ran
    [ ! -e ran ]
}
