#!/usr/bin/env bats
# common/store/compress.c and common/base/checksum.c through a small driver: what we
# write, the standard tools read; what they write, we read; a flipped byte, a
# truncated file and a full disk are reported, never passed over.
bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
    local root=$BATS_TEST_DIRNAME/..
    [ -f "$root/build/libdbguard.a" ] || { echo "build/libdbguard.a missing: run make" >&2; return 1; }
    # build/flags holds the flags the library was built with (sanitizers too).
    (cd "$root" && cc $(cat build/flags) -o "$BATS_FILE_TMPDIR/compress-driver" \
        t/helpers/compress-driver.c build/libdbguard.a \
        $(pkg-config --libs libzstd zlib libcrypto) -lpthread)
    export DRV=$BATS_FILE_TMPDIR/compress-driver
    # More than the ring holds (4 x 1 MiB), so buffers are reused.
    head -c 3000000 /dev/urandom | base64 > "$BATS_FILE_TMPDIR/text"
    head -c 1500000 /dev/urandom > "$BATS_FILE_TMPDIR/random"
    cat "$BATS_FILE_TMPDIR/text" "$BATS_FILE_TMPDIR/random" > "$BATS_FILE_TMPDIR/mixed"
    { head -c 300000 "$BATS_FILE_TMPDIR/text"; head -c 100000 "$BATS_FILE_TMPDIR/random"; } > "$BATS_FILE_TMPDIR/small"
}

setup() {
    D=$BATS_FILE_TMPDIR
    T=$BATS_TEST_TMPDIR
}

# round_trip SPEC INPUT [write]: compress, then check with the standard tool,
# our decompressor and the checksums.
round_trip() {
    local spec=$1 in=$2 mode=${3:-} out=$T/out
    run -0 --separate-stderr "$DRV" compress "$spec" "$out" $mode < "$in"
    read -r sum raw size <<< "$output"
    [ "$raw" -eq "$(stat -c %s "$in")" ]
    [ "$size" -eq "$(stat -c %s "$out")" ]
    [ "$sum" = "$(sha256sum < "$out" | cut -d' ' -f1)" ]
    case $spec in
    zstd*) zstd -q -dc < "$out" | cmp - "$in"; zstd -q -t "$out" ;;
    gzip*) gunzip -c < "$out" | cmp - "$in"; gzip -t < "$out" ;;
    none)  cmp "$out" "$in" ;;
    esac
    "$DRV" decompress "$out" 2>/dev/null | cmp - "$in"
    run -0 --separate-stderr "$DRV" verify "$out"
    [ "$output" = "${spec%%:*} $sum $size $raw" ]
}

@test "zstd round trip of text, random and mixed data" {
    round_trip zstd "$D/text"
    round_trip zstd "$D/random"
    round_trip zstd:1 "$D/mixed"
    round_trip zstd:19 "$D/small" write
}

@test "gzip round trip of text, random and mixed data" {
    round_trip gzip "$D/text"
    round_trip gzip:1 "$D/random"
    round_trip gzip:9 "$D/small" write
}

@test "none stores the bytes as they are" {
    round_trip none "$D/mixed"
    round_trip none "$D/text" write
}

@test "odd-sized writes give the same stream as the pump" {
    run -0 --separate-stderr "$DRV" compress zstd "$T/a" < "$D/mixed"
    run -0 --separate-stderr "$DRV" compress zstd "$T/b" write < "$D/mixed"
    cmp "$T/a" "$T/b"
}

@test "empty input makes a valid empty stream" {
    for spec in zstd gzip none; do
        run -0 --separate-stderr "$DRV" compress "$spec" "$T/e" < /dev/null
        run -0 --separate-stderr "$DRV" verify "$T/e"
        [ "${output%% *}" = "$spec" ]
        [ "$("$DRV" decompress "$T/e" 2>/dev/null | wc -c)" -eq 0 ]
        case $spec in
        zstd) [ "$(zstd -q -dc < "$T/e" | wc -c)" -eq 0 ] ;;
        gzip) [ "$(gunzip -c < "$T/e" | wc -c)" -eq 0 ] ;;
        esac
    done
}

@test "files written by the zstd and gzip tools are read, concatenated ones too" {
    zstd -q -3 -c "$D/mixed" > "$T/m.zst"
    gzip -6 -c "$D/mixed" > "$T/m.gz"
    for f in "$T/m.zst" "$T/m.gz"; do
        run -0 --separate-stderr "$DRV" verify "$f"
        [ "$(cut -d' ' -f2 <<< "$output")" = "$(sha256sum < "$f" | cut -d' ' -f1)" ]
        "$DRV" decompress "$f" 2>/dev/null | cmp - "$D/mixed"
    done
    cat "$T/m.zst" "$T/m.zst" > "$T/two.zst"
    cat "$T/m.gz" "$T/m.gz" > "$T/two.gz"
    cat "$D/mixed" "$D/mixed" > "$T/two"
    "$DRV" decompress "$T/two.zst" 2>/dev/null | cmp - "$T/two"
    "$DRV" decompress "$T/two.gz" 2>/dev/null | cmp - "$T/two"
}

@test "the format is recognised by its magic bytes, whatever the name" {
    run -0 --separate-stderr "$DRV" compress zstd "$T/x.gz" < "$D/text"
    run -0 --separate-stderr "$DRV" detect "$T/x.gz"
    [ "$output" = zstd ]
    run -0 --separate-stderr "$DRV" compress gzip "$T/y.zst" < "$D/text"
    run -0 --separate-stderr "$DRV" detect "$T/y.zst"
    [ "$output" = gzip ]
    run -0 --separate-stderr "$DRV" detect "$D/text"
    [ "$output" = none ]
    printf '\x28\xb5' > "$T/short"
    run -0 --separate-stderr "$DRV" detect "$T/short"
    [ "$output" = none ]
}

@test "sha256_file agrees with sha256sum" {
    for f in "$D/text" "$D/random" /dev/null; do
        run -0 --separate-stderr "$DRV" sha256 "$f"
        [ "$output" = "$(sha256sum < "$f" | cut -d' ' -f1)" ]
    done
    run -1 --separate-stderr "$DRV" sha256 "$T/missing"
    [[ $stderr == *"cannot read '$T/missing': No such file or directory" ]]
}

# flip FILE OFFSET: replace one byte with its complement
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

@test "a flipped byte is corrupt for verify, as for zstd -t and gzip -t" {
    for spec in zstd gzip; do
        run -0 --separate-stderr "$DRV" compress "$spec" "$T/s" < "$D/small"
        size=$(stat -c %s "$T/s")
        for off in 20 $((size / 2)) $((size - 6)); do
            cp "$T/s" "$T/bad"
            flip "$T/bad" "$off"
            run -5 --separate-stderr "$DRV" verify "$T/bad"
            # a flip can also make the stream look longer than the file
            [[ $stderr == *"'$T/bad': corrupt $spec data: "* ||
               $stderr == *"'$T/bad': truncated $spec stream" ]]
            run -5 --separate-stderr "$DRV" decompress "$T/bad"
            case $spec in
            zstd) run ! zstd -q -t "$T/bad" ;;
            gzip) run ! gzip -t < "$T/bad" ;;
            esac
        done
    done
}

@test "a truncated file is reported as truncated" {
    for spec in zstd gzip; do
        run -0 --separate-stderr "$DRV" compress "$spec" "$T/s" < "$D/small"
        size=$(stat -c %s "$T/s")
        for keep in 10 $((size / 2)) $((size - 1)); do
            head -c "$keep" "$T/s" > "$T/cut"
            run -5 --separate-stderr "$DRV" verify "$T/cut"
            [ "$stderr" = "compress-driver: '$T/cut': truncated $spec stream" ]
        done
    done
}

@test "garbage after the stream is corrupt" {
    run -0 --separate-stderr "$DRV" compress zstd "$T/s" < "$D/text"
    printf 'not a frame' >> "$T/s"
    run -5 --separate-stderr "$DRV" verify "$T/s"
    [[ $stderr == *"corrupt zstd data"* ]]
}

@test "a full disk is an error with errno, never a silent success" {
    run -1 --separate-stderr bash -c 'ulimit -f 256; exec "$0" compress zstd "$1" < "$2"' \
        "$DRV" "$T/full" "$D/random"
    [ "$stderr" = "compress-driver: cannot write '$T/full': File too large" ]
    [ "$(stat -c %s "$T/full")" -le $((256 * 1024)) ]
    run -1 --separate-stderr "$DRV" compress gzip /dev/full < "$D/mixed"
    [ "$stderr" = "compress-driver: cannot write '/dev/full': No space left on device" ]
    run -1 --separate-stderr "$DRV" compress none /dev/full < "$D/text"
    [ "$stderr" = "compress-driver: cannot write '/dev/full': No space left on device" ]
}

@test "a reader that goes away is EPIPE for the writer, not a kill" {
    run -0 --separate-stderr bash -c '"$0" compress zstd - < "$1" | head -c 1 > /dev/null; echo "${PIPESTATUS[0]}"' \
        "$DRV" "$D/random"
    [ "$output" = 1 ]
    [[ $stderr == *"cannot write '-': Broken pipe" ]]
}

@test "abort does not hang on a reader that stopped reading" {
    # a FIFO that this shell holds open and never reads: the thread blocks
    # writing the first 1 MiB buffer when the producer gives up
    mkfifo "$T/fifo"
    exec 7<> "$T/fifo"
    run -1 --separate-stderr timeout 5 "$DRV" compress none "$T/fifo" stop=1200000 < "$D/random"
    exec 7>&-
    [ "$stderr" = "compress-driver: cannot write '$T/fifo': Operation canceled" ]
}

@test "--compress values are parsed with clear errors" {
    run -0 --separate-stderr "$DRV" parse zstd
    [ "$output" = "zstd 2 .zst" ]
    run -0 --separate-stderr "$DRV" parse zstd:19
    [ "$output" = "zstd 19 .zst" ]
    run -0 --separate-stderr "$DRV" parse zstd:-3
    [ "$output" = "zstd -3 .zst" ]
    run -0 --separate-stderr "$DRV" parse gzip
    [ "$output" = "gzip 6 .gz" ]
    run -0 --separate-stderr "$DRV" parse gzip:1
    [ "$output" = "gzip 1 .gz" ]
    run -0 --separate-stderr "$DRV" parse none
    [ "$output" = "none 0 " ]
    run -2 --separate-stderr "$DRV" parse lz4
    [ "$stderr" = "compress-driver: --compress: unknown compression 'lz4' (expected zstd[:LEVEL], gzip[:LEVEL] or none)" ]
    run -2 --separate-stderr "$DRV" parse zstd:20
    [ "$stderr" = "compress-driver: --compress: invalid zstd level '20' (expected 1..19, or -7..-1 for faster)" ]
    run -2 --separate-stderr "$DRV" parse zstd:
    run -2 --separate-stderr "$DRV" parse zstd:3x
    run -2 --separate-stderr "$DRV" parse gzip:0
    [ "$stderr" = "compress-driver: --compress: invalid gzip level '0' (expected 1..9)" ]
    run -2 --separate-stderr "$DRV" parse none:1
    [ "$stderr" = "compress-driver: --compress: compression 'none' takes no level (got 'none:1')" ]
    run -2 --separate-stderr "$DRV" parse ZSTD
}
