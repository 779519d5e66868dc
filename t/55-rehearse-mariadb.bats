#!/usr/bin/env bats
# safe-run --rehearse against a real MariaDB: the copy is made on the server
# (tables, then views pointed at the copy), or with a trigger, a snapshot
# loaded into a scratch schema; narrowing a varchar truncates in a non-strict SQL
# mode and fails in a strict one; the original is unchanged after every
# rehearsal (its CHECKSUM TABLE before and after), no copy is left behind.
bats_require_minimum_version 1.5.0
load helpers/common
load helpers/undo-hint

FAKES=$BATS_TEST_DIRNAME/fixtures/rehearse

setup_file() {
    mariadb_start
}

teardown_file() {
    mariadb_stop
}

setup() {
    app=app$BATS_TEST_NUMBER
    my_sql "CREATE DATABASE $app"
    my_sql "CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(255) NOT NULL, email text,
            bio text) ENGINE=InnoDB;
        INSERT INTO users (name, email) VALUES ('ann', 'ann@example.org'), ('bobby', 'bob@example.org'),
            ('christopher', NULL);
        CREATE TABLE posts (id int PRIMARY KEY, user_id int, body text,
            FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE) ENGINE=InnoDB;
        INSERT INTO posts VALUES (1, 1, 'hello'), (2, 1, 'again'), (3, 2, 'hi');
        CREATE TABLE audit (id int PRIMARY KEY, msg text) ENGINE=InnoDB;
        INSERT INTO audit VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e');" "$app"
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj/database/migrations" "$BATS_TEST_TMPDIR/bin"
    cd "$proj"
    touch artisan
    # The password is quoted as a Laravel project must: phpdotenv ends an
    # unquoted value at '#' and refuses one with a space (issue 11).
    printf 'APP_ENV=local\nDB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_DATABASE=%s\nDB_USERNAME=%s\nDB_PASSWORD=\047%s\047\n' \
        "$MY_PORT" "$app" "$MY_USER" "$MY_PASSWORD" > .env
    cp "$FAKES/fake-php" "$BATS_TEST_TMPDIR/bin/php"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH
    before=$(checksum)
}

checksum() {
    my_sql "SHOW CREATE TABLE users; SHOW CREATE TABLE posts; SHOW CREATE TABLE audit;
        CHECKSUM TABLE users, posts, audit EXTENDED" "$app" | md5sum
}
copies() { my_sql "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '%\\_\\_dbguard\\_rehearse\\_%'"; }
untouched() {
    [ "$(checksum)" = "$before" ]
    [ -z "$(copies)" ]
}
migration() { printf '%s\n' "$1" > database/migrations/2024_01_01_000000_change.sql; }

@test "drop a table, drop a column with values, drop an all-NULL column" {
    migration 'DROP TABLE audit;'
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"LOST  table audit dropped, with 5 rows"* ]]
    untouched
    migration 'ALTER TABLE users DROP COLUMN email;'
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"LOST  column users.email dropped, with 2 values not NULL"* ]]
    untouched
    migration 'ALTER TABLE users DROP COLUMN bio;'
    run -0 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"ok    column users.bio dropped; it held only NULL"* ]]
    untouched
}

@test "narrowing varchar(255) to varchar(5): non-strict SQL mode truncates (reported), strict mode fails" {
    migration "SET SESSION sql_mode = ''; ALTER TABLE users MODIFY name varchar(5) NOT NULL;"
    run -1 --separate-stderr safe-run --rehearse --format=json php artisan migrate
    printf '%s' "$output" | python3 -c '
import json, sys
r = json.load(sys.stdin)
t = r["databases"][0]["type_changes"][0]
assert r["status"] == "exit 0", r
assert (t["column"], t["from"], t["to"]) == ("name", "varchar(255)", "varchar(5)"), t
assert t["compared"] and t["truncated"] == 1 and t["changed"] == 0, t'
    untouched
    migration "SET SESSION sql_mode = 'STRICT_ALL_TABLES'; ALTER TABLE users MODIFY name varchar(5) NOT NULL;"
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"command: exit 1 after"*"(on the copy)"* ]]
    [[ $output == *"| "*"Data too long for column"* ]]
    untouched
}

@test "a data migration deleting rows and ON DELETE CASCADE" {
    migration 'DELETE FROM users WHERE id = 1;'
    run -1 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"LOST  1 row of users deleted (3 -> 2)"* ]]
    [[ $output == *"LOST  2 rows of posts deleted by ON DELETE CASCADE from users (3 -> 1)"* ]]
    untouched
}

@test "a rename and a NOT NULL column with a default: nothing lost" {
    migration 'RENAME TABLE audit TO audit_log; ALTER TABLE users RENAME COLUMN email TO mail;
        ALTER TABLE users ADD COLUMN active tinyint NOT NULL DEFAULT 1;'
    run -0 --separate-stderr safe-run --rehearse php artisan migrate
    [[ $output == *"ok    table audit renamed to audit_log"* ]]
    [[ $output == *"ok    column users.email renamed to mail"* ]]
    [[ $output == *"new   column users.active tinyint(4)"* ]]
    untouched
}

@test "plain mariadb < migration.sql with the database from the environment" {
    migration 'DELETE FROM audit;'
    MYSQL_PWD=$MY_PASSWORD run -1 --separate-stderr safe-run --rehearse sh -c \
        "mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P $MY_PORT -u $MY_USER \"\$DB_DATABASE\" < database/migrations/2024_01_01_000000_change.sql"
    [[ $output == *"LOST  5 rows of audit deleted (5 -> 0)"* ]]
    untouched
}

@test "a command writing to the original whatever the environment says is caught (125)" {
    MYSQL_PWD=$MY_PASSWORD run -125 --separate-stderr safe-run --rehearse sh -c \
        "mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P $MY_PORT -u $MY_USER $app -e 'DELETE FROM audit'"
    [[ $stderr == *"the command did not follow the redirect: it changed mysql"*"/$app"* ]]
    [ -z "$(copies)" ]
    [ "$(checksum)" != "$before" ]
    # The hint printed is the one command that undoes it: follow it.
    follow_undo_hint "$app"
    [ "$(checksum)" = "$before" ]
}

@test "views are made in the copy on the server, each reading the copy, also one joining another database" {
    other=${app}_other
    my_sql "CREATE DATABASE $other; CREATE TABLE $other.roles (user_id int); INSERT INTO $other.roles VALUES (1), (2)"
    # a_top reads z_base, made after it in the catalog's order; with_roles
    # joins another database, so the server names every table in full.
    # The note names the database in a string, which stays as it is.
    my_sql "CREATE VIEW z_base AS SELECT id, name, 'it''s \`$app\`.users' AS note FROM users;
        CREATE VIEW a_top AS SELECT * FROM z_base WHERE id > 0;
        CREATE VIEW with_roles AS SELECT u.id FROM users u JOIN $other.roles r ON r.user_id = u.id" "$app"
    before=$(checksum)
    migration 'DELETE FROM users WHERE id = 1;
        SELECT (SELECT count(*) FROM a_top), (SELECT count(*) FROM with_roles), (SELECT max(note) FROM a_top);'
    MYSQL_PWD=$MY_PASSWORD run -1 --separate-stderr safe-run -v --rehearse sh -c \
        "mariadb --no-defaults -N --protocol=tcp -h 127.0.0.1 -P $MY_PORT -u $MY_USER \"\$DB_DATABASE\" < database/migrations/2024_01_01_000000_change.sql > $BATS_TEST_TMPDIR/seen"
    [[ $output == *"LOST  1 row of users deleted (3 -> 2)"* ]]
    [[ $stderr != *"loading a snapshot"* ]]
    # Through the copy's views the command saw the copy: 2 users, 1 with a role.
    [ "$(cat "$BATS_TEST_TMPDIR/seen")" = "2	1	it's \`$app\`.users" ]
    untouched
    [ "$(my_sql "SELECT (SELECT count(*) FROM a_top), (SELECT count(*) FROM with_roles)" "$app")" = $'3\t2' ]
    my_sql "DROP DATABASE $other"
}

@test "a trigger: the copy is the snapshot loaded, and the rehearsal reports the same" {
    my_sql "CREATE TRIGGER users_gone AFTER DELETE ON users FOR EACH ROW INSERT INTO audit VALUES (100 + OLD.id, 'gone')" "$app"
    before=$(checksum)
    migration 'DELETE FROM users WHERE id = 2;'
    run -1 --separate-stderr safe-run -v --rehearse php artisan migrate
    [[ $stderr == *"MySQL copies by dump and load; loading a snapshot into"* ]]
    [[ $output == *"LOST  1 row of users deleted (3 -> 2)"* ]]
    [[ $output == *"LOST  1 row of posts deleted by ON DELETE CASCADE from users (3 -> 2)"* ]]
    untouched
}
