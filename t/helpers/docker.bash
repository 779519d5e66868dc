# docker.bash — a private Docker Engine for the tests that need one, started
# in setup_file and stopped in teardown_file (and by an EXIT trap, so an
# interrupted run leaves no daemon, container or mount behind).  Loaded after
# helpers/common.  Nothing is pulled from a registry: the images are built
# here from what is installed on the machine (busybox-static, PostgreSQL 15,
# MariaDB, Redis), once per bats run, and imported into each file's engine.
#
#   docker_start / docker_stop   DOCKER_HOST DK_DIR DK_PID
#   docker_skip_unless_ready     skip the test, with the reason, when the
#                                engine could not run a container
#   docker_images                import dbguard-test/busybox, /postgres, /mariadb
#   docker_image_redis           import dbguard-test/redis (only the files
#                                that use it: it needs redis-server)
#   dk_compose ARGS...           the Compose found on PATH (v2 plugin or v1)
#   docker_test_setup            a test's setup: skip unless ready, helper image, COMPOSE
#   dk_wait_healthy CONTAINER [SECONDS]
#   dk_port_range                a protected range of 200 free ports picked
#                                now, for portcheck: DK_RANGE_LO/_HI and the
#                                DBGUARD_RANGE, DBGUARD_BLOCK_* it reads (the
#                                default's layout: postgres LO..+9, redis
#                                +30..+39, mysql +40..+49, ...)
#   dk_port_outside              a free port outside that range
#   dk_wait_pg PORT [SECONDS] / dk_wait_my PORT [SECONDS] / dk_wait_redis PORT [SECONDS]
#
# The daemon keeps off the host's network set-up: no iptables rules, no
# docker0 (--bridge=none: a container needs a network of its own to publish
# a port), networks from a private address pool.  Every test publishes its
# ports on 127.0.0.1 explicitly (127.0.0.1:PORT:5432).

DK_IMAGE_BUSYBOX=dbguard-test/busybox:1
DK_IMAGE_PG=dbguard-test/postgres:15
DK_IMAGE_MY=dbguard-test/mariadb:10
DK_IMAGE_REDIS=dbguard-test/redis:7
_DK_START_TIMEOUT=60

# Why the engine cannot run containers here, when it cannot (set by docker_start).
DK_SKIP_REASON=${DK_SKIP_REASON:-}

_dk_die() {
    echo "docker.bash: $1" >&2
    if [ -n "${2:-}" ] && [ -f "$2" ]; then
        echo "--- last lines of $2:" >&2
        tail -n 20 "$2" >&2
    fi
    return 1
}

# In CI (CI=true) an engine that cannot run containers fails the tests
# instead, unless DBGUARD_KNOWN_SKIPS lists "docker": a skip nobody wrote
# down must not pass as green.
docker_skip_unless_ready() {
    [ -n "${DK_SKIP_REASON:-}" ] || return 0
    if [ "${CI:-}" = true ] && [[ " ${DBGUARD_KNOWN_SKIPS:-} " != *" docker "* ]]; then
        echo "docker.bash: $DK_SKIP_REASON (not a known skip in CI)" >&2
        return 1
    fi
    skip "$DK_SKIP_REASON"
}

# Unmount whatever the daemon left mounted under $1 (overlays, shm, netns),
# deepest first, so the directory can go.
_dk_umount_under() {
    local m
    awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
        sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
}

docker_start() {
    local dir i pool
    [ "${_DK_OWNER:-}" != "$BASHPID" ] || [ -z "${DK_PID:-}" ] ||
        _dk_die "docker_start: already running (pid $DK_PID)" || return 1
    DK_SKIP_REASON=
    if ! command -v docker >/dev/null || ! [ -x /usr/sbin/dockerd ]; then
        DK_SKIP_REASON="no docker client or /usr/sbin/dockerd (make deps installs docker.io)"
        export DK_SKIP_REASON
        return 0
    fi
    # The socket path must fit a sockaddr_un (108 bytes): a short /tmp name.
    dir=$(mktemp -d /tmp/dbguard-dk.XXXXXX) || return 1
    DK_DIR=$dir
    _DK_OWNER=$BASHPID
    _dk_install_trap
    # A private pool per daemon, so two test files' networks never overlap.
    pool="10.$((200 + RANDOM % 50)).0.0/16"
    _dbg_spawn "$dir/dockerd.log" /usr/sbin/dockerd \
        --data-root="$dir/data" --exec-root="$dir/exec" --pidfile="$dir/dockerd.pid" \
        -H "unix://$dir/docker.sock" --iptables=false --ip6tables=false --ip-masq=false \
        --bridge=none --default-address-pool "base=$pool,size=24" \
        --log-level=warn --shutdown-timeout=5 --userland-proxy=true
    DK_PID=$!
    export DOCKER_HOST="unix://$dir/docker.sock" DK_DIR DK_PID
    for ((i = 0; i < _DK_START_TIMEOUT * 10; i++)); do
        _dbg_pid_alive "$DK_PID" || break
        timeout 10 docker info >/dev/null 2>&1 && break
        sleep 0.1
    done
    if ! _dbg_pid_alive "$DK_PID" || ! timeout 10 docker info >/dev/null 2>&1; then
        DK_SKIP_REASON="dockerd did not start: $(grep -m1 -i 'level=\(error\|fatal\)\|failed' "$dir/dockerd.log" | cut -c1-200)"
        export DK_SKIP_REASON
        _dk_die "docker_start: $DK_SKIP_REASON" "$dir/dockerd.log"
        docker_stop
        export DK_SKIP_REASON
        return 0
    fi
    docker_images || {
        DK_SKIP_REASON=${DK_SKIP_REASON:-"cannot build the test images"}
        export DK_SKIP_REASON
        return 0
    }
    # Can the kernel run a container here at all (namespaces, cgroups, overlay)?
    if ! timeout 60 docker run --rm --network none "$DK_IMAGE_BUSYBOX" true >"$dir/probe.log" 2>&1; then
        DK_SKIP_REASON="the kernel refuses a container: $(tr '\n' ' ' <"$dir/probe.log" | cut -c1-300)"
        export DK_SKIP_REASON
        echo "docker.bash: $DK_SKIP_REASON" >&2
    fi
    return 0
}

docker_stop() {
    local pid=${DK_PID:-} dir=${DK_DIR:-} ids
    if [ -n "$pid" ] && _dbg_pid_alive "$pid"; then
        ids=$(timeout 20 docker ps -aq 2>/dev/null)
        # shellcheck disable=SC2086
        [ -z "$ids" ] || timeout 60 docker rm -f -v $ids >/dev/null 2>&1
        kill -TERM "$pid" 2>/dev/null
        _dbg_wait_gone "$pid" 30 || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    case $dir in
    /tmp/dbguard-dk.*)
        # The daemon's own containerd, should it outlive a killed dockerd.
        if [ -f "$dir/exec/containerd/containerd.pid" ]; then
            kill -KILL "$(cat "$dir/exec/containerd/containerd.pid")" 2>/dev/null
        fi
        _dk_umount_under "$dir"
        rm -rf "$dir"
        ;;
    esac
    unset _DK_OWNER DK_PID DK_DIR DOCKER_HOST
    return 0
}

# shellcheck source=traps.bash
source "$(dirname "${BASH_SOURCE[0]}")/traps.bash"

# Stop the daemon when the shell that started it exits (traps.bash), before
# the servers of servers.bash when those were started first.
_dk_install_trap() { dbg_on_exit _dk_stop_owned; }

# Only a daemon this very process started.
_dk_stop_owned() {
    [ "${_DK_OWNER:-}" != "$BASHPID" ] || docker_stop
}

# ------------------------------------------------------------------ images

# Copy files into the root file system $1 at their own paths, with every
# shared library they load.
_dk_copy_with_libs() {
    local root=$1 f lib
    shift
    for f in "$@"; do
        [ -e "$root$f" ] || { mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f"; } || return 1
        ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' |
            while read -r lib; do
                [ -e "$root$lib" ] && continue
                mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || exit 1
            done || return 1
    done
}

# A merged-/usr skeleton with BusyBox as /bin/sh and its applets.
_dk_skeleton() {
    local root=$1 a
    mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib "$root"/usr/lib64 \
        "$root"/etc "$root"/tmp "$root"/var/run "$root"/root "$root"/usr/local/bin || return 1
    ln -s usr/bin "$root/bin"
    ln -s usr/sbin "$root/sbin"
    ln -s usr/lib "$root/lib"
    ln -s usr/lib64 "$root/lib64"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/usr/bin/busybox" || return 1
    for a in $(/bin/busybox --list); do
        [ -e "$root/usr/bin/$a" ] || ln -s busybox "$root/usr/bin/$a"
    done
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh
mysql:x:998:998:MariaDB:/var/lib/mysql:/bin/sh
redis:x:997:997:Redis:/data:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
postgres:x:999:
mysql:x:998:
redis:x:997:
nogroup:x:65534:
EOF
    echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
}

_dk_build_busybox() {
    _dk_skeleton "$1/root" && tar -C "$1/root" -cf "$1/image.tar" .
}

_dk_build_postgres() {
    local root=$1/root pg=/usr/lib/postgresql/15
    _dk_skeleton "$root" || return 1
    mkdir -p "$root$pg" "$root/usr/share/postgresql" "$root/usr/share/zoneinfo" || return 1
    cp -a "$pg/." "$root$pg/" && cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/" &&
        cp -a /usr/share/zoneinfo/. "$root/usr/share/zoneinfo/" || return 1
    # No JIT: LLVM alone would triple the image.
    rm -rf "$root$pg"/lib/llvmjit*
    _dk_copy_with_libs "$root" "$pg"/bin/* $(ls "$pg"/lib/*.so | grep -v llvmjit) \
        /usr/lib/x86_64-linux-gnu/libnss_files.so.2 || return 1
    cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# A small stand-in for the official image's entrypoint: POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB and PGDATA mean what they mean there.
set -e
[ "${1#-}" != "$1" ] && set -- postgres "$@"
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
    : "${PGDATA:=/var/lib/postgresql/data}"
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
        [ -n "$POSTGRES_PASSWORD" ] || { echo "entrypoint: POSTGRES_PASSWORD is not set" >&2; exit 1; }
        printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
        chown postgres /tmp/pwfile
        su postgres -s /bin/sh -c "initdb -D '$PGDATA' -U '$POSTGRES_USER' --pwfile=/tmp/pwfile \
            --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C --no-sync" >/tmp/initdb.log
        rm -f /tmp/pwfile
        echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
        if [ "$POSTGRES_DB" != postgres ]; then
            su postgres -s /bin/sh -c "postgres --single -D '$PGDATA' postgres" >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB";
SQL
        fi
    fi
    export PGDATA
    shift
    exec su postgres -s /bin/sh -c "exec postgres -D '$PGDATA' -c listen_addresses='*' $*"
fi
exec "$@"
EOF
    chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
    tar -C "$root" -cf "$1/image.tar" .
}

_dk_build_mariadb() {
    local root=$1/root f
    _dk_skeleton "$root" || return 1
    mkdir -p "$root/usr/share/mysql" "$root/usr/lib/mysql" "$root/etc/mysql" || return 1
    cp -a /usr/share/mysql/. "$root/usr/share/mysql/" && cp -a /usr/lib/mysql/. "$root/usr/lib/mysql/" ||
        return 1
    for f in /usr/sbin/mariadbd /usr/bin/mariadb /usr/bin/mariadb-admin /usr/bin/my_print_defaults \
        /usr/bin/resolveip /usr/bin/mariadb-install-db; do
        [ -e "$f" ] || continue
        _dk_copy_with_libs "$root" "$f" || return 1
    done
    _dk_copy_with_libs "$root" /usr/lib/x86_64-linux-gnu/libnss_files.so.2 || return 1
    ln -sf mariadbd "$root/usr/sbin/mysqld"
    ln -sf mariadb "$root/usr/bin/mysql"
    ln -sf mariadb-admin "$root/usr/bin/mysqladmin"
    cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# A small stand-in for the official image's entrypoint: MARIADB_* or MYSQL_*
# ROOT_PASSWORD, DATABASE, USER and PASSWORD mean what they mean there.
set -e
[ "${1#-}" != "$1" ] && set -- mariadbd "$@"
if [ "$1" = mariadbd ] && [ "$(id -u)" = 0 ]; then
    dd=/var/lib/mysql
    mkdir -p "$dd" /run/mysqld
    chown mysql:mysql "$dd" /run/mysqld
    if [ ! -d "$dd/mysql" ]; then
        rootpw=${MARIADB_ROOT_PASSWORD:-$MYSQL_ROOT_PASSWORD}
        db=${MARIADB_DATABASE:-$MYSQL_DATABASE}
        user=${MARIADB_USER:-$MYSQL_USER}
        pw=${MARIADB_PASSWORD:-$MYSQL_PASSWORD}
        [ -n "$rootpw" ] || { echo "entrypoint: MARIADB_ROOT_PASSWORD is not set" >&2; exit 1; }
        mariadb-install-db --no-defaults --user=mysql --datadir="$dd" --skip-test-db \
            --auth-root-authentication-method=normal --skip-name-resolve >/tmp/install.log 2>&1 ||
            { cat /tmp/install.log >&2; exit 1; }
        q() { printf "'%s'" "$(printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/''/g")"; }
        {
            echo "FLUSH PRIVILEGES;"
            echo "CREATE USER 'root'@'%' IDENTIFIED BY $(q "$rootpw");"
            echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
            echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(q "$rootpw");"
            [ -z "$db" ] || echo "CREATE DATABASE \`$db\`;"
            if [ -n "$user" ]; then
                echo "CREATE USER '$user'@'%' IDENTIFIED BY $(q "$pw");"
                [ -z "$db" ] || echo "GRANT ALL ON \`$db\`.* TO '$user'@'%';"
            fi
        } >/tmp/init.sql
        mariadbd --no-defaults --user=mysql --datadir="$dd" --skip-networking \
            --socket=/tmp/init.sock --skip-log-bin >/tmp/init.log 2>&1 &
        i=0
        until mariadb-admin --no-defaults -S /tmp/init.sock -uroot ping >/dev/null 2>&1; do
            i=$((i + 1))
            [ $i -lt 600 ] || { cat /tmp/init.log >&2; exit 1; }
            sleep 0.1
        done
        mariadb --no-defaults -S /tmp/init.sock -uroot </tmp/init.sql
        MYSQL_PWD=$rootpw mariadb-admin --no-defaults -S /tmp/init.sock -uroot shutdown
        wait
        rm -f /tmp/init.sql
    fi
    shift
    exec mariadbd --no-defaults --user=mysql --datadir="$dd" --bind-address=0.0.0.0 --port=3306 \
        --socket=/run/mysqld/mysqld.sock --skip-name-resolve --innodb-buffer-pool-size=16M \
        --innodb-log-file-size=8M --performance-schema=OFF --skip-log-bin "$@"
fi
exec "$@"
EOF
    chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
    tar -C "$root" -cf "$1/image.tar" .
}

# Redis from the machine's redis-server (Debian's redis-server package),
# laid out as the official image is: WORKDIR /data, the server run as the
# redis user, protected mode off (the official image builds it off, or no
# published port would answer), defaults otherwise (RDB on, AOF off).
_dk_build_redis() {
    local root=$1/root
    _dk_skeleton "$root" || return 1
    mkdir -p "$root/data" || return 1
    chown 997:997 "$root/data"
    # util-linux's setpriv, not BusyBox's (which cannot change the user;
    # BusyBox's sh prefers its applets, hence the full path below).
    rm -f "$root/usr/bin/setpriv"
    _dk_copy_with_libs "$root" /usr/bin/redis-server /usr/bin/redis-cli /usr/bin/setpriv || return 1
    cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# A small stand-in for the official image's entrypoint: options or a .conf
# file alone mean redis-server; as root, /data goes to the redis user and the
# server runs as that user.
set -e
case $1 in -* | *.conf) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ]; then
    shift
    set -- redis-server --protected-mode no "$@"
    if [ "$(id -u)" = 0 ]; then
        find . \! -user redis -exec chown redis:redis '{}' +
        exec /usr/bin/setpriv --reuid=997 --regid=997 --clear-groups -- "$@"
    fi
fi
exec "$@"
EOF
    chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
    tar -C "$root" -cf "$1/image.tar" .
}

# Build image tar $1 (busybox, postgres, mariadb, redis) once per bats run, under a
# lock so concurrent files do not build it twice; print its path.
_dk_image_tar() {
    local kind=$1 cache=${BATS_RUN_TMPDIR:-/tmp}/dbguard-images work i
    mkdir -p "$cache" || return 1
    if [ ! -f "$cache/$kind.tar" ]; then
        for ((i = 0; i < 1200; i++)); do
            mkdir "$cache/$kind.lock" 2>/dev/null && break
            [ -f "$cache/$kind.tar" ] && break
            sleep 0.1
        done
        if [ ! -f "$cache/$kind.tar" ]; then
            work=$(mktemp -d "$cache/$kind.XXXXXX") || return 1
            if ! "_dk_build_$kind" "$work" >"$work/build.log" 2>&1; then
                _dk_die "cannot build the $kind image" "$work/build.log"
                rmdir "$cache/$kind.lock" 2>/dev/null
                return 1
            fi
            mv "$work/image.tar" "$cache/$kind.tar"
            rm -rf "$work"
        fi
        rmdir "$cache/$kind.lock" 2>/dev/null
    fi
    printf '%s\n' "$cache/$kind.tar"
}

docker_images() {
    local tar
    tar=$(_dk_image_tar busybox) &&
        docker import -c 'CMD ["/bin/sh"]' "$tar" "$DK_IMAGE_BUSYBOX" >/dev/null || return 1
    tar=$(_dk_image_tar postgres) &&
        docker import -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/usr/sbin:/bin' \
            -c 'ENV PGDATA=/var/lib/postgresql/data' -c 'EXPOSE 5432' \
            -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' -c 'CMD ["postgres"]' \
            "$tar" "$DK_IMAGE_PG" >/dev/null || return 1
    tar=$(_dk_image_tar mariadb) &&
        docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin' -c 'EXPOSE 3306' \
            -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' -c 'CMD ["mariadbd"]' \
            "$tar" "$DK_IMAGE_MY" >/dev/null || return 1
}

# The Redis image, for the files that need it (docker_start imports the
# others).  Fails, saying why, when redis-server is not installed.
docker_image_redis() {
    local tar
    [ -x /usr/bin/redis-server ] || _dk_die "no /usr/bin/redis-server (make deps installs redis-server)" ||
        return 1
    tar=$(_dk_image_tar redis) &&
        docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin' -c 'WORKDIR /data' \
            -c 'VOLUME /data' -c 'EXPOSE 6379' \
            -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' -c 'CMD ["redis-server"]' \
            "$tar" "$DK_IMAGE_REDIS" >/dev/null
}

# ------------------------------------------------------------------- ports

# Nothing listens on 127.0.0.1 ports $1..$2.
_dk_ports_free() {
    local p
    for ((p = $1; p <= $2; p++)); do
        ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || return 1
    done
}

# The tests' own protected range, picked at run time so that two runs, or a
# busy machine, never meet on fixed ports like 7000.  Below the ephemeral
# range, as free_port's ports are (dk_port_outside keeps those out of it).
dk_port_range() {
    local lo i
    for ((i = 0; i < 50; i++)); do
        lo=$((20000 + (RANDOM % 60) * 200))
        _dk_ports_free "$lo" $((lo + 199)) && break
        lo=
    done
    [ -n "$lo" ] || _dk_die "dk_port_range: no 200 free ports in a row" || return 1
    export DK_RANGE_LO=$lo DK_RANGE_HI=$((lo + 199))
    export DBGUARD_RANGE=$lo-$((lo + 199))
    export DBGUARD_BLOCK_POSTGRES=$lo-$((lo + 9)) DBGUARD_BLOCK_QUESTDB=$((lo + 10))-$((lo + 19))
    export DBGUARD_BLOCK_QDRANT=$((lo + 20))-$((lo + 29)) DBGUARD_BLOCK_REDIS=$((lo + 30))-$((lo + 39))
    export DBGUARD_BLOCK_MYSQL=$((lo + 40))-$((lo + 49)) DBGUARD_BLOCK_OTHER=$((lo + 50))-$((lo + 99))
    export DBGUARD_BLOCK_ADMIN=$((lo + 100))-$((lo + 199))
}

dk_port_outside() {
    local p i
    for ((i = 0; i < 100; i++)); do
        p=$(free_port) || return 1
        if [ -z "${DK_RANGE_LO:-}" ] || [ "$p" -lt "$DK_RANGE_LO" ] || [ "$p" -gt "$DK_RANGE_HI" ]; then
            echo "$p"
            return 0
        fi
    done
    _dk_die "dk_port_outside: no free port outside $DK_RANGE_LO-$DK_RANGE_HI"
}

# ------------------------------------------------------------------- waits

dk_compose() {
    if docker compose version >/dev/null 2>&1; then
        docker compose "$@"
    else
        docker-compose "$@"
    fi
}

# A test's setup: skip (with the reason) unless the engine runs containers,
# the helper image the programs use, and COMPOSE, the Compose command line
# found on PATH (v2 plugin, else v1) for tests that spell it out.
docker_test_setup() {
    docker_skip_unless_ready || return 1
    export DBGUARD_DOCKER_HELPER_IMAGE=$DK_IMAGE_BUSYBOX
    if docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
    else
        COMPOSE=(docker-compose)
    fi
}

# Wait until container $1 reports healthy (or, without a healthcheck, runs).
dk_wait_healthy() {
    local c=$1 n=$((${2:-60} * 10)) i st
    for ((i = 0; i < n; i++)); do
        st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$c" 2>/dev/null)
        case $st in healthy | running) return 0 ;; exited | dead) break ;; esac
        sleep 0.1
    done
    _dk_die "container $c is not healthy ($st)"
    docker logs --tail 20 "$c" >&2 2>&1
    return 1
}

# Wait until PostgreSQL answers a login on 127.0.0.1:$1 ($PGUSER/$PGPASSWORD).
dk_wait_pg() {
    local n=$((${2:-60} * 10)) i
    for ((i = 0; i < n; i++)); do
        PGCONNECT_TIMEOUT=2 "$PG_BIN/psql" -X -qAt -h 127.0.0.1 -p "$1" -c 'SELECT 1' >/dev/null 2>&1 &&
            return 0
        sleep 0.1
    done
    _dk_die "no PostgreSQL login on 127.0.0.1:$1"
}

# Wait until MariaDB answers a login on 127.0.0.1:$1 ($MYSQL_PWD, user $2).
dk_wait_my() {
    local n=$((${3:-60} * 10)) i
    for ((i = 0; i < n; i++)); do
        mariadb --no-defaults --protocol=tcp --connect-timeout=2 -h 127.0.0.1 -P "$1" -u "$2" \
            -e 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    _dk_die "no MariaDB login on 127.0.0.1:$1"
}

# Wait until Redis answers PING with PONG on 127.0.0.1:$1.
dk_wait_redis() {
    local n=$((${2:-60} * 10)) i
    for ((i = 0; i < n; i++)); do
        [ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    _dk_die "no Redis PONG on 127.0.0.1:$1"
}
