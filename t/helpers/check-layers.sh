#!/usr/bin/env bash
# check-layers.sh — fail when a file in common/ includes a folder its layer
# may not use (common/LAYERS), or when a folder has no line there.
set -u
cd "$(dirname "$0")/../.." || exit 2
declare -A allowed
while read -r name deps; do
    case $name in '' | '#'*) continue ;; esac
    allowed[${name%:}]=" ${name%:} $deps "
done < common/LAYERS
bad=0
for f in common/*/*.[ch]; do
    d=${f#common/}; d=${d%%/*}
    if [ -z "${allowed[$d]:-}" ]; then
        echo "check-layers: folder 'common/$d' has no line in common/LAYERS" >&2
        bad=1
        continue
    fi
    while IFS=: read -r line inc; do
        to=${inc#*\"}; to=${to%%/*}
        case ${allowed[$d]} in *" $to "*) ;; *)
            echo "check-layers: $f:$line: '$d' may not include '$to' (common/LAYERS)" >&2
            bad=1 ;;
        esac
    done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include /\1:/')
done
exit $bad
