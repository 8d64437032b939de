#!/usr/bin/env bash
# check-layers.sh - the include graph between folders. lib/ never
# includes daemon/ or tools/, and no folders include each other in a
# cycle (tsort refuses a graph with a loop). The layers, bottom up:
# include/ (the public API), lib/linux/ (the platform), lib/core/ (the
# library), metrics/ (the exposition, on the public API alone), then
# daemon/, tools/, bench/, examples/ and tests/ on top.
set -euo pipefail
cd "$(dirname "$0")/.."

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
