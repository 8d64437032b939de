#!/usr/bin/env bash
# check-layers.sh - the include graph between folders. lib/ never
# includes daemon/ or tools/, and no folders include each other in a
# cycle (tsort refuses a graph with a loop). The layers, bottom up:
# include/ (the public API), lib/linux/ (the platform), lib/core/ (the
# library, itself in layers: shm/, mbox/, msg/, then sup/ and view/),
# metrics/ (the exposition, on the public API alone), then daemon/,
# tools/, bench/, examples/ and tests/ on top.
#
# With a build directory (check-layers.sh build-test), it also checks
# what the include graph cannot see: that no object file of a lib/core
# layer uses a function or variable defined by a layer above it.
set -euo pipefail
cd "$(dirname "$0")/.."

# lib/core's layers, bottom up; sup/ and view/ are siblings (neither uses
# the other).
layer_rank() {
	case $1 in
	shm) echo 1 ;;
	mbox) echo 2 ;;
	msg) echo 3 ;;
	sup | view) echo 4 ;;
	*) echo 0 ;;
	esac
}

if [ $# -eq 1 ]; then
	objs="$1/CMakeFiles/roost_objects.dir/lib/core"
	if [ ! -d "$objs" ]; then
		echo "check-layers: no objects under $objs" >&2
		exit 1
	fi
	defs=$(mktemp)
	trap 'rm -f "$defs"' EXIT
	# "symbol layer" for every global a lib/core object defines.
	for o in "$objs"/*/*.o; do
		l=$(basename "$(dirname "$o")")
		nm --defined-only -g "$o" | awk -v l="$l" 'NF == 3 { print $3, l }'
	done | sort >"$defs"
	bad=0
	for o in "$objs"/*/*.o; do
		l=$(basename "$(dirname "$o")")
		while read -r sym to; do
			if [ "$(layer_rank "$to")" -gt "$(layer_rank "$l")" ] ||
				{ [ "$to" != "$l" ] &&
					[ "$(layer_rank "$to")" -eq "$(layer_rank "$l")" ]; }; then
				echo "check-layers: ${o#"$objs"/} ($l) uses $sym ($to)" >&2
				bad=1
			fi
		done < <(nm -u "$o" | awk '{ print $2 }' | sort -u | join - "$defs")
	done
	if [ "$bad" -ne 0 ]; then
		echo "check-layers: a lib/core layer calls up" >&2
		exit 1
	fi
	echo "check-layers: no lib/core object uses a layer above its own"
	exit 0
elif [ $# -ne 0 ]; then
	echo "usage: check-layers.sh [BUILD_DIR]" >&2
	exit 1
fi

# The folder of the file '#include "inc"' in 'from' names, or nothing for
# a system header. Searched like the build does: the including file's
# folder, then the include paths.
resolve() {
	local from=$1 inc=$2 d
	for d in "$(dirname "$from")" include lib lib/core metrics daemon tools tests; do
		if [ -f "$d/$inc" ]; then
			dirname "$(realpath --relative-to=. "$d/$inc")"
			return
		fi
	done
}

edges=$(mktemp)
trap 'rm -f "$edges" "$edges.err"' EXIT
git ls-files 'include/*.h' 'lib/*.[ch]' 'metrics/*.[ch]' 'daemon/*.[ch]' \
	'tools/*.[ch]' \
	'bench/*.[ch]' 'examples/*.[ch]' 'tests/*.[ch]' |
while read -r f; do
	from=$(dirname "$f")
	sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
		to=$(resolve "$f" "$inc")
		if [ -n "$to" ] && [ "$to" != "$from" ]; then
			echo "$from $to"
		fi
	done
done | sort -u >"$edges"

status=0
if grep -E '^lib(/[^ ]*)? (daemon|tools)' "$edges"; then
	echo "check-layers: lib/ must not include daemon/ or tools/" >&2
	status=1
fi
if grep -E '^metrics ' "$edges" | grep -vE '^metrics include(/|$)'; then
	echo "check-layers: metrics/ must use the public API (include/) alone" >&2
	status=1
fi
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
	cat "$edges.err" >&2
	echo "check-layers: folders include each other in a cycle" >&2
	status=1
fi
if [ "$status" -eq 0 ]; then
	echo "check-layers: $(wc -l <"$edges") edges between folders, no cycle;" \
		"lib/ includes neither daemon/ nor tools/, metrics/ only include/"
fi
exit "$status"
