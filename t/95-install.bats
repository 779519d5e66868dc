#!/usr/bin/env bats
# make install / make uninstall into a DESTDIR: the configuration under
# SYSCONFDIR (/etc/dbguard for PREFIX=/usr), an edited one kept, and the
# directories install created removed again when empty.
bats_require_minimum_version 1.5.0
load helpers/common

setup() {
    repo=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    dest=$BATS_TEST_TMPDIR/dest
    mkdir -p "$dest"
}

@test "PREFIX=/usr puts the configuration in /etc/dbguard; SYSCONFDIR overrides it" {
    run -0 make -s -n -C "$repo" install PREFIX=/usr DESTDIR="$dest"
    [[ $output == *"$dest/etc/dbguard/dbguard.conf"* ]]
    [[ $output != *"$dest/usr/etc"* ]]
    run -0 make -s -n -C "$repo" install PREFIX=/opt/dbg SYSCONFDIR=/etc/opt/dbg DESTDIR="$dest"
    [[ $output == *"$dest/etc/opt/dbg/dbguard/dbguard.conf"* ]]
    run -0 make -s -n -C "$repo" install DESTDIR="$dest"
    [[ $output == *"$dest/usr/local/etc/dbguard/dbguard.conf"* ]]
}

@test "uninstall removes what install put there and the directories it created; an edited config stays" {
    run -0 make -s -C "$repo" install DESTDIR="$dest"
    [ -x "$dest/usr/local/bin/safe-run" ]
    [ -f "$dest/usr/local/etc/dbguard/dbguard.conf" ]
    run -0 make -s -C "$repo" uninstall DESTDIR="$dest"
    [ -z "$(find "$dest" -mindepth 1)" ]

    run -0 make -s -C "$repo" install DESTDIR="$dest"
    echo 'keep = 5' >> "$dest/usr/local/etc/dbguard/dbguard.conf"
    # A reinstall keeps the edit too, and leaves the new default beside it.
    run -0 make -s -C "$repo" install DESTDIR="$dest"
    [[ $output == *"keeping the edited"* ]]
    grep -q '^keep = 5$' "$dest/usr/local/etc/dbguard/dbguard.conf"
    [ -f "$dest/usr/local/etc/dbguard/dbguard.conf.new" ]
    run -0 make -s -C "$repo" uninstall DESTDIR="$dest"
    [[ $output == *"keeping the edited"* ]]
    [ "$(find "$dest" -type f)" = "$dest/usr/local/etc/dbguard/dbguard.conf" ]
    [ ! -e "$dest/usr/local/bin" ]
}
