#!/usr/bin/env bats
# A Rails project reads config/database.yml as ActiveRecord's
# DatabaseConfigurations and ConnectionUrlResolver do (cases from their
# tests), and .env as dotenv-rails (bkeepers/dotenv) does.  Classification
# only: no servers.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    proj="$BATS_TEST_TMPDIR/rails"
    mkdir -p "$proj/config" "$proj/bin"
    cd "$proj"
    printf "source 'https://rubygems.org'\ngem 'rails'\ngem 'dotenv-rails'\n" > Gemfile
    printf 'module App; class Application; end; end\n' > config/application.rb
}

envline() { # the value of KEY in --format=env output (unquoted)
    local key=$1; shift
    db-envcheck --format=env "$@" 2>/dev/null | sed -n "s/^$key=//p" | sed "s/^'\(.*\)'\$/\1/"
}

@test "an environment given as a URL string is that database: refused, and safe-run would refuse the migration" {
    printf 'development: "postgres://db.prod.example.com/app"\n' > config/database.yml
    run -1 --separate-stderr db-envcheck --format=tsv
    [[ ${lines[1]} == primary$'\t'postgres$'\t'db.prod.example.com$'\t'5432$'\t'app* ]]
    [[ ${lines[1]} == *$'\t'production$'\t'* ]]
    run -125 --separate-stderr safe-run --dry-run bin/rails db:migrate
    [[ $output == *"would refuse"* ]]
    [[ $output$stderr != *"no database configured"* ]]
    # an unquoted URL string too
    printf 'development: mysql2://app@db.example.com/app_dev\n' > config/database.yml
    [ "$(envline DBGUARD_HOST)" = db.example.com ]
    [ "$(envline DBGUARD_ENGINE)" = mysql ]
}

@test "DATABASE_URL is merged into the environment's config, the URL winning" {
    printf 'development:\n  adapter: postgresql\n  database: app_dev\n  host: localhost\n' > config/database.yml
    DATABASE_URL=postgres://db.example.com:5433 run -0 --separate-stderr db-envcheck --format=tsv
    [[ $output == *$'also\tpostgres\tdb.example.com\t5433\tapp_dev\t'* ]]
    [[ $output != *$'\tlocalhost\t5432\tapp_dev\t'* ]]
}

@test "a url: key beats DATABASE_URL" {
    printf 'development:\n  url: postgres://localhost/from_yml\n' > config/database.yml
    DATABASE_URL=postgres://db.example.com/from_env run -0 --separate-stderr db-envcheck --format=tsv
    [[ $output == *$'postgres\tlocalhost\t5432\tfrom_yml\t'* ]]
    [[ $output != *$'db.example.com\t5432\tfrom_yml'* ]]
}

@test "multi-database: <NAME>_DATABASE_URL for each named config, DATABASE_URL for the primary one" {
    cat > config/database.yml <<'EOF'
development:
  primary:
    adapter: postgresql
    database: app_dev
  animals:
    adapter: postgresql
    database: animals_dev
    migrations_paths: db/animals_migrate
EOF
    ANIMALS_DATABASE_URL=postgres://animals.prod.example.com/animals run -1 --separate-stderr db-envcheck --format=tsv
    [[ $output == *$'postgres\tanimals.prod.example.com\t5432\tanimals\t'*$'\tproduction\t'* ]]
    [[ $output == *$'postgres\tlocalhost\t5432\tapp_dev\t'* ]]
}

@test "dotenv-rails: \$(command) cannot be pinned: the target is unknown and --explain says why" {
    printf 'development:\n  adapter: postgresql\n  host: <%%= ENV["DB_HOST"] %%>\n  database: app_dev\n' > config/database.yml
    printf 'DB_HOST=$(vault read -field=host secret/db)\n' > .env
    run -0 --separate-stderr db-envcheck --format=tsv
    [[ $output == *$'\tapp_dev\t\tunknown\tconfig/database.yml (development)\t'* ]]
    [[ $output != *$'\tlocal\t'* ]]
    printf 'DB_CONNECTION=pgsql\nDB_HOST=$(hostname -f)\nDB_DATABASE=app\n' > .env
    rm config/database.yml
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"not pinned: DB_HOST (.env:2) cannot be pinned: \$(...) runs a shell command"* ]]
    [[ $output == *"class     unknown"* ]]
    [[ $output != *"class     local"* ]]
}

@test "dotenv-rails: \$VAR and \${VAR}, \\\$ is a dollar, single quotes literal, a bare name is empty, 'export X' unset refuses" {
    printf 'DB_CONNECTION=pgsql\nBASE=shop\nDB_DATABASE=$BASE-${BASE}\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = shop-shop ]
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=pa\\$s\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = 'pa$s' ]
    printf 'DB_CONNECTION=pgsql\nX=1\nDB_DATABASE='"'"'$X'"'"'\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = '$X' ]
    printf 'DB_CONNECTION=pgsql\nDB_DATABASE=app\nDB_DATABASE\n' > .env
    [ "$(envline DBGUARD_DATABASE)" = '' ]
    printf 'DB_CONNECTION=pgsql\nexport DB_DATABASE\n' > .env
    run -2 --separate-stderr db-envcheck
    [[ $stderr == *".env:2: dotenv refuses the file: 'export DB_DATABASE'"* ]]
}

@test "--explain says the dotenv files are read as dotenv-rails reads them" {
    printf 'development:\n  adapter: sqlite3\n  database: db/development.sqlite3\n' > config/database.yml
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"read as dotenv-rails (Rails) does"* ]]
}
