#!/usr/bin/env bash
# check-readme.sh - README.md stands alone for someone who has just cloned
# the repository: every file it names is in the repository (nothing
# outside it, such as ../shared), it names every roostctl verb, its
# description of scripts/test.sh mentions each sanitizer that script
# runs, and its commands write no stray file into the work tree (a
# redirection goes to /tmp, build/ or /dev/null).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
complain() {
	echo "README.md: $*" >&2
	fail=1
}

# Files it names, in backticks or links: nothing outside the repository,
# and each path into one of its folders exists.
top=" $(git ls-files | cut -d/ -f1 | sort -u | tr '\n' ' ') "
names=$(grep -o '`[A-Za-z0-9_./@-]*/[A-Za-z0-9_./@-]*`\|]([^)]*)' \
	README.md | tr -d '`()]' | sort -u)
for path in $names; do
	case $path in
	../*) complain "names $path, outside the repository" ;;
	*)
		case $top in
		*" ${path%%/*} "*)
			[ -e "$path" ] ||
				complain "names $path, which does not exist"
			;;
		esac
		;;
	esac
done

# Every verb in roostctl's table.
for verb in $(sed -n 's/^ *{"\([a-z]*\)", ctl_[a-z]*},$/\1/p' \
	tools/roostctl.c); do
	grep -q "\`$verb\`" README.md ||
		complain "does not name the roostctl verb '$verb'"
done

# The sanitizers scripts/test.sh runs, in the paragraph that describes it.
described=$(sed -n '/^Command two/,/^    scripts\/test.sh/p' README.md)
for san in ASan UBSan TSan; do
	if grep -q "$san" scripts/test.sh &&
		! grep -q "$san" <<<"$described"; then
		complain "the description of scripts/test.sh leaves out $san"
	fi
done

# Redirections in commands (indented lines) go to /tmp, build/ or
# /dev/null, never to a file in the work tree.
stray=$(grep -n '^    .*[0-9&]\?>>\? *[^&/ ]' README.md |
	grep -v '>>\? *build/' || true)
for at in $(printf '%s\n' "$stray" | cut -d: -f1); do
	complain "line $at: a command writes a file into the work tree"
done

exit "$fail"
