#!/usr/bin/env bash
# Stands in for the AWS CLI v2 in publish_script_test.go. It keeps one bucket ($BUCKET) as files
# under $FAKE/bucket (each object's Cache-Control and Content-Type under $FAKE/meta), answers the
# calls scripts/publish-frontend.sh makes and refuses any other command, option, bucket or
# distribution, so that a script calling AWS otherwise fails the test. Object writes, deletes and
# invalidations are appended to $FAKE/events in the order they happen.
#
# Behaviour follows the CLI reference (https://docs.aws.amazon.com/cli/latest/reference/s3/):
# --exclude/--include filters apply in order and the last match wins, a `*` matches across `/`;
# sync uploads only files that are missing or differ, and deletes nothing without --delete.
set -euo pipefail

call="$*"
refuse() {
	echo "fake aws: $* (in: aws $call)" >&2
	exit 252
}

declare -A opt=()
pos=() filters=() paths=()
# parse "<options with a value>" "<options without>" args...: options into opt (filters and
# --paths keep their order), the rest into pos.
parse() {
	local values=" $1 " flags=" $2 "
	shift 2
	while (($#)); do
		if [[ "$1" != --* ]]; then
			pos+=("$1")
			shift
		elif [[ "$flags" == *" $1 "* ]]; then
			opt[$1]=1
			shift
		elif [[ "$values" != *" $1 "* ]]; then
			refuse "option $1"
		elif [[ "$1" == --paths ]]; then
			shift
			while (($#)) && [[ "$1" != --* ]]; do
				paths+=("$1")
				shift
			done
		else
			(($# >= 2)) || refuse "$1 without a value"
			if [[ "$1" == --exclude || "$1" == --include ]]; then filters+=("$1" "$2"); else opt[$1]=$2; fi
			shift 2
		fi
	done
}

# included succeeds if the filters leave the path (relative to the source directory) in.
included() {
	local i in=0
	for ((i = 0; i < ${#filters[@]}; i += 2)); do
		# shellcheck disable=SC2053 # the filter is a pattern
		if [[ "$1" == ${filters[i + 1]} ]]; then
			[[ "${filters[i]}" == --include ]] && in=0 || in=1
		fi
	done
	return "$in"
}

# prefix_of prints the key prefix of an s3:// URL of the bucket.
prefix_of() {
	[[ "$1" == "s3://$BUCKET" || "$1" == "s3://$BUCKET/"* ]] || refuse "not s3://$BUCKET: $1"
	local rest=${1#"s3://$BUCKET"}
	rest=${rest#/}
	printf '%s' "${rest:+${rest%/}/}"
}

upload() { # upload <file> <key>
	[[ -n "${opt[--cache-control]:-}" ]] || refuse "an upload without --cache-control"
	mkdir -p "$(dirname "$FAKE/bucket/$2")" "$(dirname "$FAKE/meta/$2")"
	cp "$1" "$FAKE/bucket/$2"
	printf '%s\n%s\n' "${opt[--cache-control]}" "${opt[--content-type]:-}" >"$FAKE/meta/$2"
	echo "put $2" >>"$FAKE/events"
}

# each_file <dir>: the files under dir, relative to it, that the filters leave in.
each_file() {
	local f
	while IFS= read -r -d '' f; do
		f=${f#./}
		if included "$f"; then printf '%s\n' "$f"; fi
	done < <(cd "$1" && find . -type f -print0 | sort -z)
}

needs() { # needs <option> <value>
	[[ "${opt[$1]:-}" == "$2" ]] || refuse "$1 must be $2"
}

(($# >= 2)) || refuse "no command"
command="$1 $2"
shift 2
case "$command" in
"s3 sync")
	parse "--exclude --include --cache-control" "--no-progress" "$@"
	if ((${#pos[@]} != 2)) || [[ ! -d "${pos[0]}" ]]; then refuse "sync takes a directory and an s3:// URL"; fi
	prefix=$(prefix_of "${pos[1]}")
	while IFS= read -r f; do
		if ! cmp -s "${pos[0]}/$f" "$FAKE/bucket/$prefix$f"; then upload "${pos[0]}/$f" "$prefix$f"; fi
	done < <(each_file "${pos[0]}")
	;;
"s3 cp")
	parse "--exclude --include --cache-control --content-type" "--no-progress --recursive" "$@"
	((${#pos[@]} == 2)) || refuse "cp takes a source and an s3:// URL"
	prefix=$(prefix_of "${pos[1]}")
	if [[ -n "${opt[--recursive]:-}" ]]; then
		[[ -d "${pos[0]}" ]] || refuse "--recursive of a file"
		while IFS= read -r f; do upload "${pos[0]}/$f" "$prefix$f"; done < <(each_file "${pos[0]}")
	else
		[[ -f "${pos[0]}" && -n "$prefix" && ${#filters[@]} -eq 0 ]] || refuse "cp of one file takes the object's URL"
		upload "${pos[0]}" "${prefix%/}"
	fi
	;;
"s3api list-objects-v2")
	parse "--bucket --query --output" "" "$@"
	needs --bucket "$BUCKET"
	needs --query 'Contents[].[Key]'
	needs --output text
	keys=$(cd "$FAKE/bucket" && find . -type f | sed 's|^\./||' | sort)
	printf '%s\n' "${keys:-None}" # the CLI's text output of an empty bucket's missing Contents
	;;
"s3api put-object")
	parse "--bucket --key" "" "$@"
	needs --bucket "$BUCKET"
	mkdir -p "$(dirname "$FAKE/bucket/${opt[--key]}")" "$(dirname "$FAKE/meta/${opt[--key]}")"
	: >"$FAKE/bucket/${opt[--key]}"
	: >"$FAKE/meta/${opt[--key]}"
	echo "put ${opt[--key]}" >>"$FAKE/events"
	echo '{"ETag": "\"d41d8cd98f00b204e9800998ecf8427e\""}'
	;;
"s3api delete-object")
	parse "--bucket --key" "" "$@"
	needs --bucket "$BUCKET"
	rm -f "$FAKE/bucket/${opt[--key]}" "$FAKE/meta/${opt[--key]}"
	echo "delete ${opt[--key]}" >>"$FAKE/events"
	;;
"cloudfront create-invalidation")
	parse "--distribution-id --paths --query --output" "" "$@"
	needs --distribution-id "$DISTRIBUTION"
	needs --query Invalidation.Id
	needs --output text
	((${#paths[@]} > 0)) || refuse "no paths"
	for p in "${paths[@]}"; do [[ "$p" == /* ]] || refuse "path $p does not start with /"; done
	echo "invalidate ${paths[*]}" >>"$FAKE/events"
	echo "I$(grep -c '^invalidate' "$FAKE/events")"
	;;
"cloudfront get-invalidation")
	parse "--distribution-id --id --query --output" "" "$@"
	needs --distribution-id "$DISTRIBUTION"
	needs --query Invalidation.Status
	needs --output text
	[[ "${opt[--id]:-}" =~ ^I[0-9]+$ ]] || refuse "no invalidation ${opt[--id]:-}"
	echo Completed
	;;
*) refuse "unexpected command" ;;
esac
