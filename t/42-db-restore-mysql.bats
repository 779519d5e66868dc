#!/usr/bin/env bats
# db-restore against a real MariaDB: the scratch schema, the one RENAME
# TABLE, views, triggers, routines and events, the marker, an interrupted
# replace finished by the next run, and a failed one put back from the
# safety snapshot.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    mariadb_start
}

teardown_file() {
    mariadb_stop
}

setup() {
    app=app$BATS_TEST_NUMBER
    my_sql "CREATE DATABASE $app"
    my_sql "CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL);
        INSERT INTO users (name) VALUES ('ann'), ('bob'), ('cy');
        CREATE TABLE orders (id int PRIMARY KEY, user_id int, total decimal(8,2),
            FOREIGN KEY (user_id) REFERENCES users (id));
        INSERT INTO orders VALUES (1, 1, 9.5), (2, 3, 20);
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
        CREATE VIEW big_spenders AS SELECT u.name FROM users u JOIN big_orders b ON b.user_id = u.id;
        CREATE TRIGGER orders_check BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = ABS(NEW.total);
        CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2;
        CREATE PROCEDURE user_count() SELECT count(*) FROM users;
        CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM orders WHERE total < 0;
        CREATE SEQUENCE tickets START WITH 42;" "$app"
    proj="$BATS_TEST_TMPDIR/proj"
    mkdir -p "$proj"
    cd "$proj"
    url="mysql://$MY_USER:$(_dbg_urlencode "$MY_PASSWORD")@127.0.0.1:$MY_PORT/$app"
    printf 'DATABASE_URL=%s\n' "$url" > .env
}

# The whole schema and data, as mariadb-dump prints it.
mydump() {
    MYSQL_PWD=$MY_PASSWORD mariadb-dump --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" \
        -u "$MY_USER" --skip-dump-date --skip-comments --routines --triggers --events "${1:-$app}"
}
snap() { run -0 --separate-stderr db-snap "$@"; snapshot=$output; [ -f "$snapshot" ]; }
wreck() {
    my_sql "UPDATE users SET name = 'zed' WHERE id = 2; DELETE FROM orders WHERE id = 1;
        CREATE TABLE extra (x int); INSERT INTO extra VALUES (1); DROP VIEW big_spenders;
        ALTER TABLE users ADD COLUMN age int; DROP PROCEDURE user_count; DROP TRIGGER orders_check;
        CREATE VIEW late AS SELECT 1 AS one; CREATE FUNCTION thrice(x int) RETURNS int DETERMINISTIC RETURN x * 3;
        DROP VIEW big_orders; DROP TABLE orders;" "$app"
}
leftovers() {
    my_sql "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '${app}\\_\\_%'"
}
query_true() { [ "$(my_sql "$1")" = 1 ]; }
wait_for() { wait_until 10 query_true "$1"; }

@test "a restore gives back exactly the snapshot: rows, tables, columns, views, triggers, routines, events" {
    before=$(mydump)
    snap
    wreck
    [ "$(mydump)" != "$before" ]
    run -0 --separate-stderr db-restore --confirm="$app"
    [[ $stderr == *"restored '$app' from '$snapshot': 2 tables, 5 rows, every count as recorded"* ]]
    [ "$(mydump)" = "$before" ]
    [ "$(my_sql "SELECT twice(21)" "$app")" = 42 ]
    [ "$(my_sql "SELECT count(*) FROM big_spenders" "$app")" = 1 ]
    [ -z "$(leftovers)" ]
    [ ! -e "backups/.restore-$app.state" ]
}

@test "the target's marker survives a snapshot that carries another one" {
    run -0 --separate-stderr db-envcheck --mark=production --confirm="$app"
    snap
    run -0 --separate-stderr db-envcheck --mark=clear --confirm="$app"
    wreck
    run -0 --separate-stderr db-restore --confirm="$app" "$snapshot"
    [ -z "$(my_sql "SHOW TABLES LIKE 'dbguard_marker'" "$app")" ]
    snap --label plain
    run -0 --separate-stderr db-envcheck --mark=production --confirm="$app"
    run -1 --separate-stderr db-restore --confirm="$app" "$snapshot"
    [[ $stderr == *"refusing to restore into production database '$app'"* ]]
    run -0 --separate-stderr db-restore --confirm="$app" --allow-production "$snapshot"
    [ "$(my_sql "SELECT class FROM dbguard_marker" "$app")" = production ]
}

@test "the safety snapshot restores the state before the restore" {
    snap
    wreck
    wrecked=$(mydump)
    run -0 --separate-stderr db-restore --confirm="$app" "$snapshot"
    safety=$(ls "$PWD"/backups/*_pre-restore.sql.zst)
    [[ $stderr == *"safety snapshot of '$app' as it is now: $safety"* ]]
    run -0 --separate-stderr db-restore --confirm="$app" --no-safety-snap "$safety"
    [ "$(mydump)" = "$wrecked" ]
}

@test "a corrupted snapshot gives 5; --check passes on a good one and fails on altered counts" {
    snap
    wreck
    want=$(mydump)
    run -0 --separate-stderr db-restore --check -q "$snapshot"
    [ -z "$stderr" ]
    cp "$snapshot" "$BATS_TEST_TMPDIR/good"
    size=$(stat -c %s "$snapshot")
    printf '\x5a' | dd of="$snapshot" bs=1 seek=$((size / 2)) conv=notrunc status=none
    run -5 --separate-stderr db-restore --confirm="$app" "$snapshot"
    cp "$BATS_TEST_TMPDIR/good" "$snapshot"
    sed -i 's/^table=users\t3$/table=users\t2/; s/^rows=5$/rows=4/' "$snapshot.meta"
    meta_seal "$snapshot.meta"
    run -1 --separate-stderr db-restore --check "$snapshot"
    [[ $stderr == *"row count mismatch in table 'users': the snapshot has 2 rows, the restored database 3"* ]]
    run -1 --separate-stderr db-restore --confirm="$app" --no-safety-snap "$snapshot"
    [ "$(mydump)" = "$want" ]
    [ -z "$(leftovers)" ]
}

@test "a restore killed while replacing the target is finished by the next run" {
    before=$(mydump)
    snap
    wreck
    # The target gets a trigger on a table a reader holds: the replace
    # waits to drop it, with its record of the restore already written.
    my_sql "CREATE TRIGGER extra_check BEFORE INSERT ON extra FOR EACH ROW SET NEW.x = NEW.x" "$app"
    MYSQL_PWD=$MY_PASSWORD mariadb --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" \
        -e "BEGIN; SELECT count(*) FROM extra; SELECT SLEEP(60);" "$app" >/dev/null 2>&1 3>&- &
    reader=$!
    wait_for "SELECT count(*) > 0 FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(60)%'"
    db-restore --confirm="$app" "$snapshot" 2>"$BATS_TEST_TMPDIR/stderr" 3>&- &
    pid=$!
    wait_for "SELECT count(*) > 0 FROM information_schema.PROCESSLIST
        WHERE STATE LIKE 'Waiting for%metadata lock' AND INFO LIKE 'DROP%'"
    [ -e "backups/.restore-$app.state" ]
    kill -KILL "$pid"
    wait "$pid" || true
    my_sql "SELECT CONCAT('KILL ', ID) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(60)%'" |
        while read -r kill; do my_sql "$kill" || true; done
    wait "$reader" || true
    wait_for "SELECT count(*) = 0 FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for%'"
    # A run that does not replace the target only says so.
    run -0 --separate-stderr db-restore --check -q "$snapshot"
    [[ $stderr == *"stopped while replacing the database; run db-restore to finish it"* ]]
    # The next restore finishes it first.
    run -0 --separate-stderr db-restore --confirm="$app" --no-safety-snap "$snapshot"
    [[ $stderr == *"stopped while replacing the database; finishing it now"* ]]
    [[ $stderr == *"finished the interrupted restore of '$app'"* ]]
    [ "$(mydump)" = "$before" ]
    [ -z "$(leftovers)" ]
    [ ! -e "backups/.restore-$app.state" ]
}

@test "replacing that fails part-way is put back from the safety snapshot, and says so" {
    # A user who may do everything in the scratch schemas, but may not
    # create triggers in the target: the very last step fails.
    my_sql "DROP TRIGGER orders_check" "$app"
    wrecked=$(mydump)
    my_sql "CREATE TRIGGER orders_check BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = ABS(NEW.total)" "$app"
    snap
    my_sql "DROP TRIGGER orders_check" "$app"
    my_sql "CREATE USER 'lim_$app'@'127.0.0.1' IDENTIFIED BY 'limited-pw';
        GRANT ALL PRIVILEGES ON \`$app\`.* TO 'lim_$app'@'127.0.0.1';
        REVOKE TRIGGER ON \`$app\`.* FROM 'lim_$app'@'127.0.0.1';
        GRANT ALL PRIVILEGES ON \`${app}\\_\\_dbguard\\_%\`.* TO 'lim_$app'@'127.0.0.1';
        GRANT SET USER ON *.* TO 'lim_$app'@'127.0.0.1';
        GRANT SELECT ON mysql.proc TO 'lim_$app'@'127.0.0.1'"
    lim="mysql://lim_$app:limited-pw@127.0.0.1:$MY_PORT/$app"
    run -1 --separate-stderr db-restore --url="$lim" --confirm="$app" "$snapshot"
    [[ $stderr == *"replacing '$app' failed part-way; putting it back from the safety snapshot"* ]]
    [[ $stderr == *"'$app' is back as it was before"* ]]
    [ "$(mydump)" = "$wrecked" ]
    [ -z "$(leftovers)" ]
    [ ! -e "backups/.restore-$app.state" ]
}

@test "--into another database: its views read its own tables, also those the server names in full" {
    other=${app}_other
    # A view joining another database is printed with every name in full,
    # its own database's too; the copy's must name the copy, not $app.
    my_sql "CREATE DATABASE $other; CREATE TABLE $other.vip (user_id int); INSERT INTO $other.vip VALUES (1), (3);
        CREATE VIEW $app.vips AS SELECT u.name FROM $app.users u JOIN $other.vip v ON v.user_id = u.id;
        CREATE VIEW $app.vip_orders AS SELECT o.id FROM $app.orders o JOIN $app.vips p JOIN $app.users u
            ON u.name = p.name AND o.user_id = u.id"
    snap
    copy=${app}_copy
    run -0 --separate-stderr db-restore --into="$copy" --confirm="$copy" "$snapshot"
    my_sql "DELETE FROM orders; DELETE FROM users WHERE id = 1" "$copy"
    [ "$(my_sql "SELECT (SELECT count(*) FROM vips), (SELECT count(*) FROM vip_orders)" "$copy")" = $'1\t0' ]
    [ "$(my_sql "SELECT (SELECT count(*) FROM vips), (SELECT count(*) FROM vip_orders)" "$app")" = $'2\t2' ]
    run -0 my_sql "SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '$copy'"
    [[ $output != *"\`$app\`."* ]]
    [[ $output == *"\`$copy\`.\`users\`"* ]]
    # A restore of the database itself keeps its names.
    run -0 --separate-stderr db-restore --confirm="$app" "$snapshot"
    [ "$(my_sql "SELECT (SELECT count(*) FROM vips), (SELECT count(*) FROM vip_orders)" "$app")" = $'2\t2' ]
    my_sql "DROP DATABASE $copy; DROP DATABASE $other"
}
