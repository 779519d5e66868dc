#!/usr/bin/env bats
# db-envcheck sees the database each framework will really use: Laravel's
# config cache and phpunit.xml, Sail's published port, Rails'
# database.yml with ERB, Django settings, Prisma, Next.js dotenv files.
# Classification only: no servers.
bats_require_minimum_version 1.5.0
load helpers/common

FIXTURES=$BATS_TEST_DIRNAME/fixtures/projects

# Copy a fixture project into the test's temporary directory and enter it.
project() {
    cp -a "$FIXTURES/$1" "$BATS_TEST_TMPDIR/$1"
    cd "$BATS_TEST_TMPDIR/$1"
}

# Field N (1-based) of the TSV line whose role is $1 ("primary" or "also"),
# from the output of the last `run`.
field() {
    printf '%s\n' "$output" | awk -F'\t' -v role="$1" -v n="$2" '$1 == role { print $n; exit }'
}

# Field N of the TSV line whose source (field 8) is $1.
row() {
    printf '%s\n' "$output" | awk -F'\t' -v src="$1" -v n="$2" '$8 == src { print $n; exit }'
}

@test "Laravel: a config cache naming production wins over a local .env: 1, the cache named, how to clear it" {
    project laravel-cached
    run -1 --separate-stderr db-envcheck
    [[ $output == *"primary target (from bootstrap/cache/config.php)"* ]]
    [[ $output == *"shop_production"*"bootstrap/cache/config.php:54 connections.mysql.database"* ]]
    [[ $output == *"also configured (from .env)"* ]]
    [[ $stderr == *"'bootstrap/cache/config.php' is in force"* ]]
    [[ $stderr == *"php artisan config:clear"* ]]
    [[ $output$stderr != *"s3cret"* && $output$stderr != *"secret-local"* ]]
    # a test run reads the same cache: PHPUnit's settings do not reach a cached config
    run -1 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 5)" = shop_production ]
    [ "$(field primary 3)" = db-primary.shop.internal ]
    [ "$(field primary 8)" = bootstrap/cache/config.php ]
    [ "$(field also 5)" = shop ]
    # --explain says .env is ignored while the cache exists
    run -1 --separate-stderr db-envcheck --explain
    [[ $output == *"* bootstrap/cache/config.php"*"ignores .env"* ]]
    [[ $output == *"* .env"*"ignored by Laravel while its configuration cache exists"* ]]
    # once cleared, .env is what Laravel reads
    rm bootstrap/cache/config.php
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 5)" = shop ]
    [ "$(field primary 8)" = .env ]
}

@test "Laravel: the cache's app.env, the url key, and APP_CONFIG_CACHE" {
    project laravel-cached
    sed -i "s/'database' => 'shop_production'/'database' => 'shop'/; s/db-primary.shop.internal/127.0.0.1/" bootstrap/cache/config.php
    # app.env => 'production' in the cache still makes it production
    run -1 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_RULE='environment '\\''production'\\'' matches"*"app.env"* ]]
    sed -i "s/'env' => 'production'/'env' => 'local'/" bootstrap/cache/config.php
    run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_SOURCE=bootstrap/cache/config.php"* ]]
    # a url in the connection wins over its keys, as ConfigurationUrlParser does
    sed -i "0,/'url' => NULL,/! s/'url' => NULL,/'url' => 'mysql:\/\/u:p@10.9.8.7:3307\/orders',/" bootstrap/cache/config.php
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 5)" = orders ]
    [ "$(field primary 4)" = 3307 ]
    [ "$(field primary 7)" = remote ]
    # APP_CONFIG_CACHE moves the cache
    mv bootstrap/cache/config.php bootstrap/cache/other.php
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 8)" = .env ]
    APP_CONFIG_CACHE=bootstrap/cache/other.php run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 8)" = bootstrap/cache/other.php ]
}

@test "Laravel: a cache that is not var_export's form gives file:line, 2, and an unknown target" {
    project laravel-cached
    printf "<?php return array (\n  'database' => \n  array (\n    'default' => env('DB'),\n  ),\n);\n" > bootstrap/cache/config.php
    run -2 --separate-stderr db-envcheck --format=tsv
    [[ $stderr == *"bootstrap/cache/config.php: line 4: "* ]]
    [ "$(field primary 7)" = unknown ]
    printf "<?php return array (\n  'database' => \n  array (\n    'default' => 'nope',\n  ),\n);\n" > bootstrap/cache/config.php
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 7)" = unknown ]
    [[ $stderr == *"database.default=nope names no connection"* ]]
}

@test "Laravel: phpunit.xml selects SQLite in memory for test runs only" {
    project laravel-phpunit
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 2)" = sqlite ]
    [ "$(field primary 5)" = :memory: ]
    [ "$(field primary 8)" = phpunit.xml ]
    [ "$(field primary 7)" = local ]
    [ "$(field also 5)" = blog ]
    # APP_ENV=testing is a test run too
    APP_ENV=testing run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 8)" = phpunit.xml ]
    # not a test run: the .env database
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 2)" = mysql ]
    [ "$(field primary 5)" = blog ]
    [ "${#lines[@]}" -eq 2 ]
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"- phpunit.xml"*"not a test run"* ]]
    run -0 --separate-stderr db-envcheck --explain --test-run
    [[ $output == *"* phpunit.xml"*"primary"*"PHPUnit sets these"* ]]
}

@test "Laravel: phpunit.xml.dist, <server> and force=\"true\", malformed XML" {
    project laravel-phpunit
    mv phpunit.xml phpunit.xml.dist
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 8)" = phpunit.xml.dist ]
    # a non-forced <env> yields to the process environment, a forced one does not
    DB_DATABASE=from_env run -0 --separate-stderr db-envcheck --test-run --format=json
    [[ $output == *'"database":"from_env"'* ]]
    sed -i 's|<env name="DB_DATABASE" value=":memory:"/>|<env name="DB_DATABASE" value="forced.sqlite" force="true"/>|' phpunit.xml.dist
    DB_DATABASE=from_env run -0 --separate-stderr db-envcheck --test-run --format=json
    [[ $output == *'"database":"forced.sqlite"'* ]]
    sed -i 's|<env name="DB_CONNECTION" value="sqlite"/>|<server name="DB_CONNECTION" value="pgsql"/><server name="DB_HOST" value="ci-db.example.com"/>|' phpunit.xml.dist
    sed -i 's|value="forced.sqlite"|value="shop_test"|' phpunit.xml.dist
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 2)" = postgres ]
    [ "$(field primary 3)" = ci-db.example.com ]
    [ "$(field primary 7)" = remote ]
    # phpunit.xml beats phpunit.xml.dist
    printf '<phpunit><php><env name="DB_CONNECTION" value="sqlite"/><env name="DB_DATABASE" value=":memory:"/></php></phpunit>\n' > phpunit.xml
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 8)" = phpunit.xml ]
    printf '<phpunit>\n<php>\n<env name="DB_DATABASE" value="x">\n</php></phpunit>\n' > phpunit.xml
    run -2 --separate-stderr db-envcheck --test-run
    [[ $stderr == *"phpunit.xml:4: mismatched tag"* ]]
}

@test "Sail: DB_HOST=mysql is reached at the port compose publishes" {
    project sail
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 3)" = 127.0.0.1 ]
    [ "$(field primary 4)" = 7040 ]
    [ "$(field primary 5)" = laravel ]
    [ "$(field primary 7)" = local ]
    [ -z "$stderr" ]
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"port":"docker-compose.yml:26 ports (FORWARD_DB_PORT from .env:10)"'* ]]
    [[ $output == *"compose service 'mysql' (.env:5)"* ]]
    FORWARD_DB_PORT=7041 run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_PORT=7041"* ]]
    # a compose file that cannot be read: FORWARD_DB_PORT still says it, and --explain says so
    cp docker-compose.yml compose.bak
    printf 'services:\n  mysql: [unclosed\n' > docker-compose.yml
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"host      127.0.0.1 "* ]]
    [[ $output == *"port      7040 "*".env:10 FORWARD_DB_PORT"* ]]
    [[ $output == *"the compose port mapping itself could not be read"* ]]
    mv compose.bak docker-compose.yml
    # Sail's default mapping when FORWARD_DB_PORT is unset: 3306
    sed -i '/^FORWARD_DB_PORT/d' .env
    run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_HOST=127.0.0.1"* ]]
    [[ $output == *"DBGUARD_PORT=3306"* ]]
    # a service that publishes nothing stays a service name, and --explain says why
    sed -i "/FORWARD_DB_PORT:-3306/d; /^        ports:\$/{N; /3306/d}" docker-compose.yml
    sed -i "s/^            - '\${FORWARD_DB_PORT:-3306}:3306'\$//" docker-compose.yml
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"host      mysql"* ]]
    [[ $output == *"publishes no host port for 3306"* ]]
    # without a compose file a single-label host is left alone
    rm docker-compose.yml
    run -0 --separate-stderr db-envcheck --format=env
    [[ $output == *"DBGUARD_HOST=mysql"* ]]
}

@test "Rails: database.yml with PostgreSQL, anchors, merge keys and ERB defaults" {
    project rails-postgres
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [ "$(field primary 2)" = postgres ]
    [ "$(field primary 3)" = localhost ]
    [ "$(field primary 4)" = 5432 ]
    [ "$(field primary 5)" = shop_development ]
    [ "$(field primary 6)" = shop ]
    [ "$(field primary 8)" = "config/database.yml (development)" ]
    [[ $output != *shop_production* ]]
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"user":"config/database.yml:9 username (ENV['"'"'DB_USER'"'"'] from .env:1)"'* ]]
    [[ $output == *'"host":"config/database.yml:7 host ('"'"'DB_HOST'"'"' unset: the default)"'* ]]
    # test runs use the test: section, ENV.fetch("X") { "d" } included
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 5)" = shop_test ]
    # (DB_HOST in the environment is also a target of its own: DB_* keys are read everywhere)
    TEST_DB=ci_shop DB_HOST=10.1.1.1 DB_PORT=6543 run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(row "config/database.yml (test)" 5)" = ci_shop ]
    [ "$(row "config/database.yml (test)" 3)" = 10.1.1.1 ]
    [ "$(row "config/database.yml (test)" 4)" = 6543 ]
    [ "$(row "config/database.yml (test)" 7)" = remote ]
    # RAILS_ENV=production makes the production: section the target
    RAILS_ENV=production run -1 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 5)" = shop_production ]
    [ "$(field primary 3)" = db.shop.example.com ]
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"the other sections (test, production) are not targets of this run"* ]]
}

@test "Rails: dotenv files reach ERB only with dotenv-rails in the Gemfile" {
    project rails-postgres
    printf 'DB_USER=shop\nDB_PORT=6432\n' > .env
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(row "config/database.yml (development)" 4)" = 6432 ]
    sed -i '/dotenv/d' Gemfile
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(row "config/database.yml (development)" 4)" = 5432 ]
    [ "$(row "config/database.yml (development)" 6)" = "" ]
}

@test "Rails: SQLite, multi-database sections, and ERB that cannot be read is unknown" {
    project rails-sqlite
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 2)" = sqlite ]
    [ "$(field primary 5)" = storage/development.sqlite3 ]
    [ "$(field primary 7)" = local ]
    SQLITE_DIR=/var/db run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 5)" = /var/db/development.sqlite3 ]
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 5)" = storage/test.sqlite3 ]
    # every database of a three-tier section is a target
    RAILS_ENV=production run -1 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 3 ]
    [ "$(field primary 8)" = "config/database.yml (production.primary)" ]
    [ "$(field also 5)" = storage/production_cache.sqlite3 ]
    # ERB beyond the common forms: unknown, never local
    sed -i "s|database: storage/test.sqlite3|database: <%= Rails.root.join('tmp', 'test.sqlite3') %>|" config/database.yml
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 7)" = unknown ]
    [[ $stderr == *"config/database.yml:13: ERB <%= Rails.root.join("* ]]
    DBGUARD_REFUSE_CLASSES=unknown run -1 --separate-stderr db-envcheck --test-run
    # ERB control flow makes the whole file unknown
    printf '<%% if ENV["CI"] %%>\n' | cat - config/database.yml > x && mv x config/database.yml
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 7)" = unknown ]
    [[ $stderr == *"ERB code <% if ENV[\"CI\"] %>"* ]]
    # broken YAML is a configuration error naming file and line
    printf 'development:\n  adapter: [sqlite3\n' > config/database.yml
    run -2 --separate-stderr db-envcheck
    [[ $stderr == *"config/database.yml:3: "* ]]
}

@test "Django: a literal SQLite DATABASES with BASE_DIR; test runs use SQLite in memory" {
    project django-sqlite
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [ "$(field primary 2)" = sqlite ]
    [ "$(field primary 5)" = db.sqlite3 ]
    [ "$(field primary 8)" = "mysite/settings.py (DATABASES['default'])" ]
    run -0 --separate-stderr db-envcheck --format=json
    [[ $output == *'"database":"mysite/settings.py:57 NAME"'* ]]
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 5)" = :memory: ]
    # from a subdirectory the project is still found
    cd mysite
    run -0 --separate-stderr db-envcheck --format=tsv
    [[ "$(field primary 5)" == */django-sqlite/db.sqlite3 ]]
}

@test "Django: DJANGO_SETTINGS_MODULE, other engines, test_ names, unreadable settings" {
    project django-sqlite
    mkdir -p conf
    cat > conf/prod.py <<'EOF'
import os
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': os.environ.get('PGDATABASE', 'shop'),
        'HOST': 'pg.shop-live.example.com',
        'USER': 'shop',
    }
}
EOF
    DJANGO_SETTINGS_MODULE=conf.prod run -1 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 3)" = pg.shop-live.example.com ]
    [ "$(field primary 7)" = production ]
    DJANGO_SETTINGS_MODULE=conf.prod run -1 --separate-stderr db-envcheck --test-run --format=tsv
    [ "$(field primary 5)" = test_shop ]
    # a DATABASES decided at run time cannot be read: unknown, and said so
    cat > mysite/settings.py <<'EOF'
import os
if os.environ.get('CI'):
    DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'ci.sqlite3'}}
else:
    DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'dev'}}
EOF
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 7)" = unknown ]
    [[ $stderr == *"mysite/settings.py:3: DATABASES is changed inside a block"* ]]
    printf 'DATABASES = load_databases()\n' > mysite/settings.py
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"class     unknown"* ]]
    [[ $stderr == *"DATABASES is load_databases(...), not a literal dict"* ]]
}

@test "Django: DATABASE_URL through django-environ and dj-database-url" {
    project django-url
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [ "$(field primary 5)" = mysite_dev ]
    [ "$(field primary 8)" = .env ]
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"- mysite/settings.py (DATABASES['default'])"*"names the same database as a stronger source"* ]]
    DATABASE_URL=postgres://ci@127.0.0.1:5433/ci_db run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 5)" = ci_db ]
    [ "$(field primary 8)" = environment ]
    # the settings' default applies when no DATABASE_URL is set anywhere;
    # dj-database-url reads sqlite:///name as a relative name
    printf 'DEBUG=on\n' > .env
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 2)" = sqlite ]
    [ "$(field primary 5)" = db.sqlite3 ]
    sed -i "s/env.db('DATABASE_URL', default='sqlite:\/\/\/db.sqlite3')/dj_database_url.config(default='postgres:\/\/app@localhost\/app_prod')/" mysite/settings.py
    run -1 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 5)" = app_prod ]
}

@test "Prisma: the datasource URL from .env, beside the schema, or a literal SQLite file" {
    project prisma
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [ "$(field primary 5)" = shop_api ]
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *'prisma/schema.prisma:10 url = env("DATABASE_URL") <- .env:2'* ]]
    # Prisma also reads .env beside the schema
    mv .env prisma/.env
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 5)" = shop_api ]
    [ "$(field primary 8)" = "prisma/schema.prisma (url)" ]
    # a variable of another name, and a directUrl for migrations
    sed -i 's/env("DATABASE_URL")/env("POSTGRES_PRISMA_URL")\n  directUrl = env("POSTGRES_URL_NON_POOLING")/' prisma/schema.prisma
    printf 'POSTGRES_PRISMA_URL=postgres://u@pooler.example.com/app\nPOSTGRES_URL_NON_POOLING=postgres://u@db.example.com/app_production\n' > .env
    run -1 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 3)" = pooler.example.com ]
    [ "$(field also 5)" = app_production ]
    # SQLite: file: paths are relative to the schema's directory
    rm prisma/.env
    printf 'datasource db {\n  provider = "sqlite"\n  url      = "file:./dev.db"\n}\n' > prisma/schema.prisma
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 5)" = prisma/dev.db ]
    printf 'datasource db {\n  provider = "sqlite"\n  url      = env("DATABASE_URL")\n}\n' > prisma/schema.prisma
    printf 'DATABASE_URL="file:./dev.db"\n' > .env
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [ "$(field primary 5)" = prisma/dev.db ]
    printf 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL"\n' > prisma/schema.prisma
    run -2 --separate-stderr db-envcheck
    [[ $stderr == *"prisma/schema.prisma:"* ]]
}

@test "Next.js: .env.test for test runs, .env.development otherwise, .env.production only in production" {
    project nextjs
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [ "$(field primary 5)" = storefront_test ]
    [ "$(field primary 8)" = .env.test ]
    NODE_ENV=test run -0 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 8)" = .env.test ]
    run -0 --separate-stderr db-envcheck --format=tsv
    [ "${#lines[@]}" -eq 2 ]
    [ "$(field primary 5)" = storefront_dev ]
    [ "$(field primary 8)" = .env.development ]
    run -0 --separate-stderr db-envcheck --explain
    [[ $output == *"- .env.test "*"not a test run"* ]]
    [[ $output == *"- .env.production "*"read only when NODE_ENV, RAILS_ENV or APP_ENV is 'production'"* ]]
    NODE_ENV=production run -1 --separate-stderr db-envcheck --format=tsv
    [ "$(field primary 8)" = .env.production ]
    # .env.test.local beats .env.test; .env.local counts as well
    printf 'DATABASE_URL=postgres://me@localhost/mine_test\n' > .env.test.local
    printf 'DATABASE_URL=postgres://me@localhost/mine\n' > .env.local
    run -0 --separate-stderr db-envcheck --test-run --format=tsv
    [ "${#lines[@]}" -eq 4 ]
    [ "$(field primary 8)" = .env.test.local ]
}

@test "--explain names the source the framework uses, why, and the rule for every framework" {
    for p in laravel-phpunit sail rails-postgres django-sqlite prisma nextjs; do
        project "$p"
        run -0 --separate-stderr db-envcheck --explain --test-run
        [[ $output == *"sources, strongest first:"* ]] || { echo "$p: $output" >&2; return 1; }
        [[ $output == *"* "*"primary: "* ]] || { echo "$p: $output" >&2; return 1; }
        [[ $output == *"  class     local: "* ]] || { echo "$p: $output" >&2; return 1; }
        [[ $output == *"environments of this run: "* ]] || { echo "$p: $output" >&2; return 1; }
    done
}
