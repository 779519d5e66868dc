#!/usr/bin/env bats
# portcheck: validate, plan, apply, rollback on the compose corpus in
# fixtures/compose, against the real socket tables of this machine.
bats_require_minimum_version 1.5.0
load helpers/common

FIX=$BATS_TEST_DIRNAME/fixtures/compose

setup() {
    unset COMPOSE_FILE COMPOSE_PATH_SEPARATOR COMPOSE_PROFILES
    unset APP_PORT VITE_PORT FORWARD_DB_PORT FORWARD_REDIS_PORT FORWARD_MAILPIT_PORT \
        FORWARD_MAILPIT_DASHBOARD_PORT REDIS_PORT CACHE_PORT PG_VERSION SAVE NOPE
    WORK=$BATS_TEST_TMPDIR/work
    mkdir -p "$WORK"
    LISTENER=
}

teardown() {
    if [ -n "$LISTENER" ]; then
        kill "$LISTENER" 2>/dev/null || true
        wait "$LISTENER" 2>/dev/null || true
    fi
}

# A fresh copy of a fixture project (with its .env) in the test's directory.
use() {
    cd "$BATS_TEST_TMPDIR"
    rm -rf "$WORK"
    mkdir -p "$WORK"
    cp -a "$FIX/$1/." "$WORK/"
    cd "$WORK"
}

# The first port of [lo, hi] nothing listens on: what plan will choose.
first_free() {
    local p
    for ((p = $1; p <= $2; p++)); do
        if ! (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

checksums() {
    find . -type f ! -name '*.backup' -print0 | sort -z | xargs -0 sha256sum
}

# ---- validate ----

@test "validate: a compliant project exits 0" {
    use compliant
    p=$(first_free 7000 7009)
    sed -i "s/7000:5432/$p:5432/" compose.yaml
    run -0 --separate-stderr portcheck
    [[ ${lines[0]} == SERVICE*ENGINE*ADDRESS*PORT*TARGET*STATUS*SUGGESTED* ]]
    [[ ${lines[1]} == "db "*"postgres "*"127.0.0.1 "*"$p "*"5432/tcp "*"ok "* ]]
    [ "${#lines[@]}" -eq 2 ]   # nginx is not a database
    [[ $stderr == *"compliant"* ]]
}

@test "validate: a database port outside the range is a finding with file:line and a suggestion (1)" {
    use basic
    p=$(first_free 7000 7009)
    run -1 --separate-stderr portcheck validate
    [[ $output == *"compose.yaml:14: db: host port 5432 is outside 7000-7999; suggested $p"* ]]
    [[ $output == *"compose.yaml:14: db: host port 5432 is published on every interface"* ]]
    [[ $stderr == *"2 findings"* ]]
}

@test "validate: no compose file gives 3" {
    cd "$WORK"
    run -3 --separate-stderr portcheck
    [[ $stderr == *"portcheck: no compose file"* ]]
    [ -z "$output" ]
}

@test "validate: compose files without a database service give 3" {
    use nodb
    run -3 --separate-stderr portcheck validate
    [[ $stderr == *"no database service in 'compose.yaml'"* ]]
}

@test "validate: malformed YAML and invalid values give 2 and FILE:LINE" {
    cd "$FIX/malformed"
    declare -A where=([indent]=4 [quote]=8 [tab]=3 [duplicate]=5 [alias]=3 [port]=5 [interpolation]=5
        [not-a-mapping]=1 [services-list]=2)
    for f in "${!where[@]}"; do
        run -2 --separate-stderr portcheck -f "$f.yaml"
        [[ $stderr == "portcheck: $f.yaml:${where[$f]}:"* ]] || { echo "$f: $stderr" >&2; return 1; }
        [ -z "$output" ]
    done
    run -2 --separate-stderr portcheck -f duplicate.yaml
    [[ $stderr == *"duplicate key 'ports'"* ]]
    run -2 --separate-stderr portcheck -f interpolation.yaml
    [[ $stderr == *"required variable 'DB_PORT' is missing a value: set DB_PORT in .env"* ]]
}

@test "validate: alias bombs are refused quickly with 2, never expanded" {
    cd "$FIX/bombs"
    run -2 --separate-stderr timeout 10 portcheck -f laughs.yaml
    [[ $stderr == "portcheck: laughs.yaml:8:"*"alias bomb"* ]]
    run -2 --separate-stderr timeout 10 portcheck -f merge-laughs.yaml
    [[ $stderr == "portcheck: merge-laughs.yaml:"*"alias bomb"* ]]
    run -2 --separate-stderr timeout 10 portcheck -f recursive.yaml
    [[ $stderr == "portcheck: recursive.yaml:4:"*"contains it"* ]]
}

@test "validate: too deep and too large documents are refused with 2" {
    cd "$FIX/bombs"
    run -2 --separate-stderr timeout 10 portcheck -f deep.yaml
    [[ $stderr == "portcheck: deep.yaml:5:"*"nested deeper than 64 levels"* ]]
    run -2 --separate-stderr timeout 10 portcheck -f deep-block.yaml
    [[ $stderr == "portcheck: deep-block.yaml:"*"nested deeper than 64 levels"* ]]
    cd "$WORK"
    { echo 'services: {db: {image: postgres}}'; yes '# padding padding padding' | head -c 5000000; } > big.yaml
    run -2 --separate-stderr timeout 10 portcheck -f big.yaml
    [[ $stderr == "portcheck: big.yaml:1: the file is larger than 4 MiB"* ]]
}

@test "validate: a port held by a listener of this test is reported with its PID" {
    use compliant
    port=$(first_free 7060 7099)
    sed -i "s/7000:5432/$port:5432/" compose.yaml
    python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1 3>&- &
    LISTENER=$!
    wait_until 10 port_open "$port"
    run -1 --separate-stderr portcheck validate
    [[ $output == *"compose.yaml:7: db: host port $port is in use on this machine by pid $LISTENER (python"* ]]
    run -1 --separate-stderr portcheck --format=tsv
    row=$(printf '%s\n' "$output" | awk -F'\t' '$1 == "port" && $2 == "db"')
    [ "$(cut -f10 <<<"$row")" = in-use ]
    [[ $(cut -f13 <<<"$row") == "pid $LISTENER (python"* ]]
    # The plan moves the port away from the listener.
    p=$(first_free 7000 7009)
    run -0 --separate-stderr portcheck plan --format=tsv
    [[ $output == *$'\t'"$port"$'\t'"$p"$'\t5432\ttcp\tchange\t'* ]]
}

@test "validate: conflicts, overlapping ranges, the same port in two files; disjoint profiles do not conflict" {
    use conflict
    run -1 --separate-stderr portcheck
    [[ $output == *"compose.yaml:10: new: host port 5432/tcp is also published by 'old' at compose.yaml:4"* ]]

    cd "$FIX/profiles"
    run -1 --separate-stderr portcheck
    [[ $output != *"pg16: host port 7001/tcp is also published"* ]]
    [[ $output == *"mongo-ui: host port 7050/tcp is also published by 'mongo'"* ]]

    rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
    cat > compose.yaml <<'EOF'
services:
  cluster:
    image: scylladb/scylla
    ports: ["127.0.0.1:7050-7052:9042-9044"]
  db:
    image: postgres
    ports:
      - "127.0.0.1:7051:5432"
EOF
    cat > compose.override.yaml <<'EOF'
services:
  db:
    ports:
      - "127.0.0.1:7005:5432"
EOF
    run -1 --separate-stderr portcheck --format=tsv
    [[ $output == *$'finding\tdb\tpostgres\tcompose.yaml\t8\t\t\t\t\tconflict\t\t\thost port 7051/tcp is also published by \'cluster\''* ]]
    [[ $output == *$'finding\tdb\tpostgres\tcompose.override.yaml\t4\t\t\t\t\tsame-port-in-two-files\t'* ]]
}

@test "validate: data protection findings and volume notes" {
    use protection
    run -1 --separate-stderr portcheck --format=tsv
    kinds=$(printf '%s\n' "$output" | awk -F'\t' '$1 != "port" && NR > 1 { print $2 ":" $10 }' | sort | tr '\n' ' ')
    [ "$kinds" = ":external-volume :fixed-name anon:anonymous-volume anon:no-restart nomount:no-healthcheck nomount:no-restart nomount:no-volume ram:no-healthcheck ram:tmpfs tmpbind:temp-bind undeclared:no-healthcheck undeclared:undeclared-volume " ]
}

@test "validate: dbguard.role labels add and remove database services" {
    use labels
    run -1 --separate-stderr portcheck --format=tsv
    [[ $output == *$'port\tledger\tpostgres\t'* ]]
    [[ $output == *$'port\tsearch\tdatabase\tcompose.yaml\t15\t127.0.0.1\t9200\t9200\ttcp\tout-of-range\t7050'* ]]
    [[ $output != *fixtures* ]]
    [[ $output != *metrics* ]]   # an exporter is not a database
}

@test "validate: an unset variable is a warning; the environment beats .env" {
    use interpolated
    sed -i 's/postgres:\${PG_VERSION:-16}/postgres:${NOPE}16/' compose.yaml
    run -1 --separate-stderr portcheck
    [[ $stderr == *"warning: compose.yaml:4: variable 'NOPE' is not set; using an empty string"* ]]
    [[ $output == *"compose.yaml:6 (.env:3 DB_PORT)"* ]]
    p=$(first_free 7000 7009)
    DB_PORT=$p run -1 --separate-stderr portcheck --format=tsv
    [[ $output == *$'port\tdb\tpostgres\tcompose.yaml\t6\t127.0.0.1\t'"$p"$'\t5432\ttcp\tok\t'"$p"$'\tenvironment\t'* ]]
    # Out of range and set by the environment: only a person can change it.
    DB_PORT=5555 run -1 --separate-stderr portcheck plan
    [[ $output == *"db "*"5555 "*"manual  it comes from the environment variable DB_PORT"* ]]
}

@test "validate: COMPOSE_FILE, -f in order, and discovery from a subdirectory" {
    use override
    COMPOSE_FILE=compose.yaml run -1 --separate-stderr portcheck --format=tsv
    [[ $output == *$'port\tcache\tvalkey\tcompose.yaml\t14\t127.0.0.1\t6379\t'* ]]
    run -1 --separate-stderr portcheck -f compose.yaml -f compose.override.yaml --format=tsv
    [[ $output == *$'port\tcache\tvalkey\tcompose.override.yaml\t9\t127.0.0.1\t6380\t'* ]]
    [[ $output != *$'\t6379\t6379\t'* ]]   # !override replaced the base's list
    use sail
    mkdir -p app/Http && cd app/Http
    run -1 --separate-stderr portcheck
    [[ $output == *"docker-compose.yml:16 (.env:9 FORWARD_DB_PORT)"* ]] || [[ $output == *"docker-compose.yml:16 ("*".env:9 FORWARD_DB_PORT)"* ]]
}

# ---- formats ----

@test "--format=tsv: validate and plan tables" {
    use basic
    p=$(first_free 7000 7009)
    run -1 --separate-stderr portcheck validate --format=tsv
    [ "${lines[0]}" = $'kind\tservice\tengine\tfile\tline\thost_ip\tpublished\ttarget\tprotocol\tstatus\tsuggested\tsource\tdetail' ]
    [ "${lines[1]}" = $'port\tdb\tpostgres\tcompose.yaml\t14\t\t5432\t5432\ttcp\tout-of-range,exposed\t'"$p"$'\t\t' ]
    run -0 --separate-stderr portcheck plan --format=tsv
    [ "${lines[0]}" = $'service\tengine\thost_ip\tport\tnew\ttarget\tprotocol\taction\tedit\treason' ]
    [ "${lines[1]}" = $'db\tpostgres\t\t5432\t'"$p"$'\t5432\ttcp\tchange\tcompose.yaml:14\t' ]
    [ "${#lines[@]}" -eq 2 ]
}

@test "--format=json: validate, plan and apply are JSON" {
    use basic
    p=$(first_free 7000 7009)
    run -1 --separate-stderr portcheck --format=json
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["compliant"] is False and d["range"] == "7000-7999"
port = d["ports"][0]
assert port["service"] == "db" and port["published"] == "5432" and port["suggested"] == sys.argv[2]
assert port["status"] == ["out-of-range", "exposed"] and port["line"] == 14
assert [f["kind"] for f in d["findings"]] == ["out-of-range", "exposed"]
' "$output" "$p"
    run -0 --separate-stderr portcheck plan --format=json
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
e = d["ports"][0]["edits"][0]
assert d["ports"][0]["action"] == "change" and e["file"] == "compose.yaml" and e["old"] == "5432" and e["new"] == sys.argv[2]
' "$output" "$p"
    run -0 --separate-stderr portcheck apply --confirm=apply --format=json
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["addresses"] == [{"service": "db", "address": "postgres://localhost:" + sys.argv[2]}]
' "$output" "$p"
}

# ---- plan ----

@test "plan: deterministic, by engine block, keeping a service's order" {
    use long-syntax
    run -0 --separate-stderr portcheck plan --format=tsv
    first=$output
    run -0 --separate-stderr portcheck plan --format=tsv
    [ "$output" = "$first" ]
    q=$(first_free 7020 7029)
    [[ $output == *$'vectors\tqdrant\t127.0.0.1\t6333\t'"$q"$'\t6333\t'* ]]
    # questdb: 8812 < 9000, so its new ports keep that order.
    new8812=$(printf '%s\n' "$output" | awk -F'\t' '$4 == 8812 { print $5 }')
    new9000=$(printf '%s\n' "$output" | awk -F'\t' '$4 == 9000 { print $5 }')
    ((new8812 >= 7010 && new8812 < new9000 && new9000 <= 7019))
}

@test "plan: --range moves the suggestions; a bad range is a usage error" {
    use basic
    p=$(first_free 8001 8099)   # the app holds 8000
    run -0 --separate-stderr portcheck plan --range 8000-8099 --format=tsv
    [ "${lines[1]}" = $'db\tpostgres\t\t5432\t'"$p"$'\t5432\ttcp\tchange\tcompose.yaml:14\t' ]
    run -2 --separate-stderr portcheck plan --range=9000
    [[ $stderr == *"invalid port range '9000'"* ]]
    DBGUARD_RANGE=8000-8099 run -1 --separate-stderr portcheck
    [[ $output == *"outside 8000-8099; suggested $p"* ]]
}

# ---- apply and rollback ----

@test "apply then rollback gives byte-identical files, modes kept" {
    use override
    cp "$FIX/interpolated/.env" .env
    chmod 0640 compose.override.yaml
    before=$(checksums)
    run -0 --separate-stderr portcheck apply --confirm=apply
    [ "$(checksums)" != "$before" ]
    [ -f compose.yaml.backup ] && [ -f compose.override.yaml.backup ]
    [ "$(stat -c %a compose.override.yaml)" = 640 ]
    run -0 --separate-stderr portcheck rollback
    [ "$(checksums)" = "$before" ]
    [ "$(stat -c %a compose.override.yaml)" = 640 ]
    [[ $output == *compose.yaml* && $output == *compose.override.yaml* ]]
    [ -z "$(find . -name '*.backup')" ]
}

@test "apply: the diff shows only port text" {
    for fx in basic override ranges long-syntax ipv6 conflict; do
        use "$fx"
        run -0 --separate-stderr portcheck apply --confirm=apply
        changed=0
        for b in *.backup; do
            f=${b%.backup}
            cmp -s "$b" "$f" || changed=1
            # Without digits and dashes (the port text) the files are the same.
            diff <(tr -d '0-9-' <"$b") <(tr -d '0-9-' <"$f")
            [ "$(wc -l <"$b")" -eq "$(wc -l <"$f")" ]
        done
        [ "$changed" -eq 1 ]
    done
    use basic
    p=$(first_free 7000 7009)
    run -0 --separate-stderr portcheck apply --confirm=apply
    run -1 diff compose.yaml.backup compose.yaml
    [ "$output" = "14c14
<       - \"5432:5432\"
---
>       - \"$p:5432\"" ]
}

@test "apply: interpolated ports change in .env, not in the compose file" {
    use sail
    run -0 --separate-stderr portcheck apply --confirm=apply
    cmp docker-compose.yml "$FIX/sail/docker-compose.yml"
    [ ! -e docker-compose.yml.backup ]
    m=$(first_free 7040 7049)
    r=$(first_free 7030 7039)
    grep -qx "FORWARD_DB_PORT=$m" .env
    grep -qx "export FORWARD_REDIS_PORT=\"$r\"" .env
    [[ $output == *"mysql://localhost:$m"* && $output == *"redis://localhost:$r"* ]]
    # A default whose variable is unset is changed where it is written.
    use interpolated
    run -0 --separate-stderr portcheck apply --confirm=apply
    grep -q '"127.0.0.1:${DB_PORT:-5432}:5432"' compose.yaml
    grep -q "^DB_PORT=$(first_free 7000 7009)   # the database\$" .env
    grep -q '${REDIS_PORT:-${CACHE_PORT:-'"$r"'}}:6379' compose.yaml
}

@test "apply: ports in an extended file are changed there" {
    use extends
    run -0 --separate-stderr portcheck apply --confirm=apply
    [ -f common.yaml.backup ] && [ -f compose.yaml.backup ]
    run -1 diff common.yaml.backup common.yaml
    [[ ${lines[0]} == 6c6 ]]
    run -0 --separate-stderr portcheck rollback
    cmp common.yaml "$FIX/extends/common.yaml"
    cmp compose.yaml "$FIX/extends/compose.yaml"
}

@test "apply: IPv6 addresses and ranges" {
    use ipv6
    m=$(first_free 7040 7049)
    run -0 --separate-stderr portcheck apply --confirm=apply
    grep -q "\"\[::1\]:$m:3306\"" compose.yaml
    [[ $output == *"mysql://[::1]:$m"* ]]
    use ranges
    run -0 --separate-stderr portcheck apply --confirm=apply
    grep -Eq '"127\.0\.0\.1:70[5-9][0-9]-70[5-9][0-9]:9042-9044"' compose.yaml
    grep -Eq '"127\.0\.0\.1:70[5-9][0-9]:8089/udp"' compose.yaml
}

@test "apply: a port shared through an alias needs a manual change (1); the others move" {
    use anchors
    run -1 --separate-stderr portcheck apply --confirm=apply
    [[ $stderr == *"cache: cannot move host port 6379"*"the same text at compose.yaml:37 also sets the port of 'cache2'"* ]]
    grep -q '"127.0.0.1:6379:6379"' compose.yaml
    ! grep -q '127.0.0.1:5432:5432' compose.yaml
}

@test "apply: needs --confirm=apply without a terminal (6) and touches nothing" {
    use basic
    before=$(checksums)
    run -6 --separate-stderr portcheck apply </dev/null
    [[ $stderr == *"confirm with --confirm=apply"* ]]
    run -6 --separate-stderr portcheck apply --confirm=yes </dev/null
    run -6 --separate-stderr portcheck migrate --confirm=db </dev/null
    [ "$(checksums)" = "$before" ]
    [ -z "$(find . -name '*.backup')" ]
    DBGUARD_CONFIRM=apply run -0 --separate-stderr portcheck migrate </dev/null
    [ -f compose.yaml.backup ]
}

@test "apply: refuses an existing .backup unless --force; symbolic links stay links" {
    use basic
    echo old > compose.yaml.backup
    before=$(checksums)
    run -1 --separate-stderr portcheck apply --confirm=apply
    [[ $stderr == *"'compose.yaml.backup' exists"* ]]
    [ "$(checksums)" = "$before" ]
    [ "$(cat compose.yaml.backup)" = old ]
    run -0 --separate-stderr portcheck apply --confirm=apply --force
    cmp compose.yaml.backup "$FIX/basic/compose.yaml"
    rm -rf "$WORK" && mkdir -p "$WORK/real" && cp "$FIX/basic/compose.yaml" "$WORK/real/" && cd "$WORK"
    ln -s real/compose.yaml compose.yaml
    run -0 --separate-stderr portcheck apply --confirm=apply
    [ -L compose.yaml ]
    ! grep -q '"5432:5432"' real/compose.yaml
    run -0 --separate-stderr portcheck rollback
    [ -L compose.yaml ]
    cmp real/compose.yaml "$FIX/basic/compose.yaml"
}

@test "apply: nothing to change exits 0 and prints the addresses" {
    use compliant
    p=$(first_free 7000 7009)
    sed -i "s/7000:5432/$p:5432/" compose.yaml
    run -0 --separate-stderr portcheck apply </dev/null
    [[ $stderr == *"nothing to change"* ]]
    [[ $output == *"db       postgres://localhost:$p"* ]]
    [ ! -e compose.yaml.backup ]
}

@test "rollback: nothing to roll back gives 3" {
    use basic
    run -3 --separate-stderr portcheck rollback
    [[ $stderr == *"nothing to roll back"* ]]
    cd "$BATS_TEST_TMPDIR" && mkdir -p empty && cd empty
    run -3 --separate-stderr portcheck rollback
}

# ---- usage ----

@test "usage: commands, options, help and version" {
    use basic
    run -2 --separate-stderr portcheck frobnicate
    [[ $stderr == *"unknown command 'frobnicate'"* ]]
    run -2 --separate-stderr portcheck plan extra
    run -2 --separate-stderr portcheck --format=env
    run -2 --separate-stderr portcheck -f missing.yaml
    [[ $stderr == *"cannot open 'missing.yaml'"* ]]
    run -0 --separate-stderr portcheck --help
    [[ ${lines[0]} == "usage: portcheck [validate|plan|apply|rollback]"* ]]
    run -0 --separate-stderr portcheck --version
    [[ $output == "portcheck (dbguard) "* ]]
    run -1 --separate-stderr portcheck -q
    [ -z "$stderr" ]
}

@test "--only=ports: only port findings are reported and fail CI; after apply no pointer to plan" {
    use compliant
    p=$(first_free 7000 7009)
    sed -i "s/7000:5432/$p:5432/; /restart:/d" compose.yaml
    run -1 --separate-stderr portcheck
    [[ $output == *"no-restart"* || $output == *"restart"* ]]
    run -0 --separate-stderr portcheck --only=ports
    [[ $output != *"restart"* ]]
    run -0 --separate-stderr portcheck --only=ports --format=tsv
    [ "$(printf '%s\n' "$output" | awk -F'\t' '$1 == "finding"' | wc -l)" -eq 0 ]
    run -2 --separate-stderr portcheck --only=data
    # A port out of range fails it; after apply, what is left is not a port
    # matter and nothing sends the user to plan.
    sed -i "s/$p:5432/5432:5432/" compose.yaml
    run -1 --separate-stderr portcheck --only=ports
    [[ $output == *"out-of-range"* ]]
    run -0 --separate-stderr portcheck apply --confirm=apply
    [[ $stderr == *"1 finding remains"* ]]
    run -1 --separate-stderr portcheck
    [[ $stderr != *"portcheck plan"* ]]
    [[ $stderr == *"none that a port change fixes"* ]]
    run -0 --separate-stderr portcheck --only=ports
}
