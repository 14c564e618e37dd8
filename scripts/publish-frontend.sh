#!/usr/bin/env bash
# Publishes a built frontend to the stack's S3 bucket and CloudFront distribution.
#
# Two kinds of files, with different caching:
#   - hashed assets: every file in a subdirectory (Vite's assets/, Create React App's static/),
#     whose names change with their content. Cached for a year, marked immutable.
#   - entry points: every top-level file (index.html, favicon.ico, robots.txt, a service worker)
#     and every HTML, JSON, web manifest, text or XML file anywhere, plus .well-known/. Their
#     names never change, so browsers and CloudFront must revalidate them: no-cache.
# A file in a subdirectory with a fixed name that is neither of those would be cached for a
# year under its old content: keep such files at the top level or give them hashed names.
#
# Order of the upload, so that a visitor never gets an index.html whose assets are missing:
#   1. hashed assets (new names, nothing references them yet),
#   2. the other entry points, then index.html last,
#   3. only then retire what the new build no longer has: other files at once, hashed assets a
#      day later (KEEP_SECONDS), so that a tab opened on the previous release can still load its
#      lazy chunks. A superseded asset gets an empty marker .superseded/<epoch>/<key> (the
#      deploy role may write and list the bucket, not read it); the first publish a day or more
#      later deletes the asset and its marker, and an asset a newer build has again loses its
#      marker,
#   4. invalidate the entry points in CloudFront (never the hashed assets: their URLs are new)
#      and wait for the invalidation.
#
# Needs the AWS CLI v2 and credentials that may write the bucket and invalidate the distribution.

set -euo pipefail

readonly IMMUTABLE="public,max-age=31536000,immutable"
readonly REVALIDATE="no-cache"
# Above this many entry points, one "/*" invalidation replaces the list.
readonly MAX_PATHS=50
readonly MARKERS=".superseded"
INVALIDATION_TIMEOUT="${INVALIDATION_TIMEOUT:-1200}"
KEEP_SECONDS="${KEEP_SECONDS:-86400}"

export AWS_PAGER=""

usage() {
	cat <<'EOF'
Usage: scripts/publish-frontend.sh <build-dir> <bucket> <distribution-id>

  build-dir        output of `npm run build` (contains index.html), e.g. frontend/dist
  bucket           the stack output frontendBucketName
  distribution-id  the stack output cdnDistributionId

Environment: INVALIDATION_TIMEOUT (default 1200 s), KEEP_SECONDS (how long a superseded hashed
asset stays, default 86400 s: a day).
EOF
}

log() {
	printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

fail() {
	log "ERROR: $*"
	exit 1
}

# Succeeds if the file (path relative to the build directory) is an entry point.
is_entry_point() {
	case "$1" in
	*/*) ;;
	*) return 0 ;;
	esac
	case "$1" in
	*.html | *.json | *.webmanifest | *.txt | *.xml | .well-known/*) return 0 ;;
	esac
	return 1
}

# retire deletes what the build in $1 no longer has from bucket $2: entry points at once,
# hashed assets KEEP_SECONDS after a publish first found them superseded.
retire() {
	local build_dir=$1 bucket=$2 now key when asset file
	local -A in_build=() in_bucket=() marker_of=() since=()
	local objects=() doomed=() marked=0 kept=0
	now=$(date -u +%s)
	while IFS= read -r -d '' file; do
		in_build["${file#./}"]=1
	done < <(cd "$build_dir" && find . -type f -print0)
	while IFS= read -r key; do
		[[ -n "$key" && "$key" != "None" ]] || continue
		if [[ "$key" == "$MARKERS"/* ]]; then
			when=${key#"$MARKERS"/}
			when=${when%%/*}
			asset=${key#"$MARKERS/$when/"}
			marker_of["$asset"]=$key
			since["$asset"]=$when
		else
			objects+=("$key")
			in_bucket["$key"]=1
		fi
	done < <(aws s3api list-objects-v2 --bucket "$bucket" --query 'Contents[].[Key]' --output text)
	for key in "${objects[@]}"; do
		[[ -z "${in_build[$key]:-}" ]] || continue
		if is_entry_point "$key"; then
			doomed+=("$key")
		elif [[ -z "${since[$key]:-}" ]]; then
			aws s3api put-object --bucket "$bucket" --key "$MARKERS/$now/$key" >/dev/null
			marked=$((marked + 1))
		elif ((now - since[$key] >= KEEP_SECONDS)); then
			doomed+=("$key" "${marker_of[$key]}")
		else
			kept=$((kept + 1))
		fi
	done
	# Markers of assets that are back in the build, or already gone.
	for asset in "${!marker_of[@]}"; do
		if [[ -n "${in_build[$asset]:-}" || -z "${in_bucket[$asset]:-}" ]]; then
			doomed+=("${marker_of[$asset]}")
		fi
	done
	log "$marked hashed assets superseded now, $kept kept until a day has passed, ${#doomed[@]} objects to delete"
	for key in "${doomed[@]}"; do
		aws s3api delete-object --bucket "$bucket" --key "$key" >/dev/null
	done
}

main() {
	if [[ $# -ne 3 ]]; then
		usage >&2
		exit 2
	fi
	local build_dir=${1%/} bucket=$2 distribution=$3
	[[ -f "$build_dir/index.html" ]] || fail "$build_dir/index.html does not exist: is $build_dir a build output?"
	[[ "$bucket" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || fail "'$bucket' is not a bucket name"
	[[ "$distribution" =~ ^[A-Z0-9]+$ ]] || fail "'$distribution' is not a CloudFront distribution ID"
	command -v aws >/dev/null || fail "the AWS CLI is not installed"

	# Split the build into the two kinds. aws s3 filters are matched in order and the last match
	# wins: each entry point is named explicitly, so the rule above is the only definition.
	local file entry_points=() assets_filters=() entry_filters=(--exclude "*") paths=("/")
	while IFS= read -r -d '' file; do
		file=${file#./}
		is_entry_point "$file" || continue
		[[ "$file" != *[][*?\\]* ]] || fail "file name with a wildcard character: $file"
		entry_points+=("$file")
		assets_filters+=(--exclude "$file")
		[[ "$file" == "index.html" ]] || entry_filters+=(--include "$file")
		paths+=("/$file")
	done < <(cd "$build_dir" && find . -type f -print0)
	log "${#entry_points[@]} entry points, the other files are hashed assets"

	local target="s3://$bucket"
	log "1/4 hashed assets -> $target (Cache-Control: $IMMUTABLE)"
	aws s3 sync "$build_dir" "$target" "${assets_filters[@]}" \
		--cache-control "$IMMUTABLE" --no-progress

	# cp, not sync: entry points keep their names, so they are uploaded every time.
	log "2/4 entry points -> $target (Cache-Control: $REVALIDATE), index.html last"
	aws s3 cp "$build_dir" "$target" --recursive "${entry_filters[@]}" \
		--cache-control "$REVALIDATE" --no-progress
	aws s3 cp "$build_dir/index.html" "$target/index.html" \
		--cache-control "$REVALIDATE" --content-type "text/html; charset=utf-8" --no-progress

	log "3/4 retiring files the new build no longer has (hashed assets after ${KEEP_SECONDS}s)"
	retire "$build_dir" "$bucket"

	# Paths are invalidated literally; CloudFront wants URL-encoded paths, so any unusual
	# character, or too many paths, falls back to one wildcard (billed as one path).
	local path
	for path in "${paths[@]}"; do
		if [[ ! "$path" =~ ^[A-Za-z0-9._~/-]+$ ]]; then
			paths=("/*")
			break
		fi
	done
	if ((${#paths[@]} > MAX_PATHS)); then
		paths=("/*")
	fi
	log "4/4 invalidating ${#paths[@]} path(s) in $distribution: ${paths[*]}"
	local id status deadline
	id=$(aws cloudfront create-invalidation --distribution-id "$distribution" \
		--paths "${paths[@]}" --query Invalidation.Id --output text)
	deadline=$((SECONDS + INVALIDATION_TIMEOUT))
	while :; do
		status=$(aws cloudfront get-invalidation --distribution-id "$distribution" --id "$id" \
			--query Invalidation.Status --output text)
		[[ "$status" != "Completed" ]] || break
		((SECONDS < deadline)) || fail "invalidation $id still $status after ${INVALIDATION_TIMEOUT}s"
		sleep 10
	done
	log "published: invalidation $id completed"
}

main "$@"
