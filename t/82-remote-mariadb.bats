#!/usr/bin/env bats
# The remote store with a real MariaDB: a snapshot pushed to WebDAV, SFTP
# and a local-path remote (real rclone on both ends) comes back whole into a
# database that no longer exists, into another one, through --check, and
# encrypted with age.
bats_require_minimum_version 1.5.0
load helpers/common
load helpers/rclone

setup_file() {
    mariadb_start
    rclone_start_webdav
    rclone_start_sftp
    rclone_local_remote
}

teardown_file() {
    rclone_stop_all
    mariadb_stop
}

setup() {
    app=app$BATS_TEST_NUMBER
    my_sql "CREATE DATABASE $app"
    my_sql "CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(40) NOT NULL, note text);
        INSERT INTO users (name, note) SELECT concat('user', seq), 'tab\there ''q''' FROM seq_1_to_300;
        CREATE TABLE orders (id int PRIMARY KEY, user_id int, total decimal(8,2),
            FOREIGN KEY (user_id) REFERENCES users (id));
        INSERT INTO orders VALUES (1, 1, 9.5), (2, 3, 20);
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
        CREATE TRIGGER orders_check BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = ABS(NEW.total);" "$app"
    proj=$BATS_TEST_TMPDIR/proj
    store=$proj/backups
    mkdir -p "$proj"
    cd "$proj"
    url="mysql://$MY_USER:$(_dbg_urlencode "$MY_PASSWORD")@127.0.0.1:$MY_PORT/$app"
    printf 'DATABASE_URL=%s\n' "$url" > .env
    dir=my$BATS_TEST_NUMBER
}

mydump() {
    MYSQL_PWD=$MY_PASSWORD mariadb-dump --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" \
        -u "$MY_USER" --skip-dump-date --skip-comments --routines --triggers --events "${1:-$app}"
}
snap() { run -0 --separate-stderr db-snap "$@"; snapshot=$output; [ -f "$snapshot" ]; }

@test "mariadb: push, list, pull and restore round trips on WebDAV, SFTP and a local path" {
    before=$(mydump)
    snap --label seed
    name=${snapshot##*/}
    for remote in "dav:$dir" "sftp:$dir" "loc:$RC_LOCAL_DIR/$dir"; do
        export DBGUARD_REMOTE=$remote
        run -0 --separate-stderr db-snap --push
        [[ $stderr == *"pushed '$name' to '$remote'"* ]]
        run -0 --separate-stderr db-snap --list --remote --format=tsv
        [[ ${lines[1]} == "$remote/$name	$app	mysql	"*"	seed	"*"	good	"*"	local+remote" ]]
        run -0 --separate-stderr db-snap --verify --remote
        [ "$output" = "$remote/$name: OK" ]
        rm -rf "$store"
        my_sql "DROP DATABASE $app"
        run -0 --separate-stderr db-restore --remote --confirm="$app"
        [[ $stderr == *"pulled '$name' from '$remote'"* ]]
        [[ $stderr == *"restored '$app' from '$store/$name': 2 tables, 302 rows, every count as recorded"* ]]
        [ "$(mydump)" = "$before" ]
        run -0 --separate-stderr db-restore --remote --into="${app}_copy" --confirm="${app}_copy" "$name"
        [ "$(my_sql "SELECT count(*) FROM users" "${app}_copy")" = 300 ]
        my_sql "DROP DATABASE ${app}_copy"
    done
}

@test "mariadb: db-restore --check --remote loads into a throwaway schema" {
    snap
    DBGUARD_REMOTE=sftp:$dir run -0 --separate-stderr db-snap --push
    rm -rf "$store"
    DBGUARD_REMOTE=sftp:$dir run -0 --separate-stderr db-restore --check --remote
    [[ $stderr == *"is good: it loads, and its 2 tables hold the 302 rows recorded"* ]]
}

@test "mariadb: encrypted with age on the remote, restored with the identity, and by hand" {
    age-keygen -o "$HOME/team.key" 2>/dev/null
    printf '[store]\nencrypt_to = %s\nidentity = %s\nremote = dav:%s\n' \
        "$(age-keygen -y "$HOME/team.key")" "$HOME/team.key" "$dir" > .dbguard.conf
    before=$(mydump)
    snap
    name=${snapshot##*/}
    run -0 --separate-stderr db-snap --push
    my_sql "CREATE DATABASE ${app}_hand"
    age -d -i "$HOME/team.key" "$RC_DAV_DIR/$dir/$name.age" | zstd -dc |
        MYSQL_PWD=$MY_PASSWORD mariadb --no-defaults --protocol=tcp -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" "${app}_hand"
    [ "$(my_sql "SELECT count(*) FROM users" "${app}_hand")" = 300 ]
    rm -rf "$store"
    my_sql "DROP DATABASE $app"
    run -0 --separate-stderr db-restore --remote --confirm="$app"
    [[ $stderr == *"(decrypted)"* ]]
    [ "$(mydump)" = "$before" ]
    ! grep -rqF "$MY_PASSWORD" "$RC_DAV_DIR/$dir" "$store"
}
