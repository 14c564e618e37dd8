#!/usr/bin/env bash
# Releases a backend image to one Canalco stack, without `pulumi up`.
#
# The running release is the SSM parameter the stack exports as `releaseParameter`
# (/canalco/<stack>/backend/release); each instance reads it at boot and runs
# <repository>:release-<tag>. `pulumi up` never writes that parameter and the launch template
# names no release, so an infrastructure update and a release never undo each other.
#
# A release (`deploy`) does, in order:
#   1. tags the image release-<tag> (from build-<tag>, the tag `push` gives it) and takes build-<tag>
#      off, so the repository's lifecycle rules never select it (docs/compute.md),
#   2. runs the database migrations of the new image once, through SSM Run Command, on one
#      InService instance, before any instance runs the new code; a failure stops here with the
#      running release untouched,
#   3. writes <tag> to the release parameter, starts an instance refresh and waits for it,
#   4. on a failed refresh: writes the previous release back, refreshes again, exits non-zero,
#   5. keeps release- tags on the last three releases only (the running one, the one a rollback
#      goes to, and one more); older ones get their build- tag back and age out with the builds.
#
# A stack that sleeps (dev outside office hours) is woken first by deploy, rollback, migrate and
# up: its database started and available (the migrations need it, and RDS refuses to modify a
# stopped instance), then its Auto Scaling group at its office-hours size (its "-wake" scheduled
# action), so a release or an update works at any hour and promotion never waits for the
# morning. The sleep schedule puts both back at the end of the next office day.
#
# Run it from anywhere in the repository, with AWS credentials for the stack's account and
# PULUMI_BACKEND_URL (or `pulumi login`) pointing at the state bucket (for the stack's outputs).
# Needs aws (CLI v2), pulumi, jq, and skopeo for `push`.

set -euo pipefail

readonly RELEASE_PREFIX="release-"
readonly BUILD_PREFIX="build-"
# Value of the release parameter before the first release.
readonly NO_RELEASE="none"
# How many recent releases keep their release- tag.
readonly KEEP_RELEASES=3
# Seconds to wait for an instance refresh to finish.
REFRESH_TIMEOUT="${REFRESH_TIMEOUT:-1800}"
# Seconds a migration may run on the instance.
MIGRATION_TIMEOUT="${MIGRATION_TIMEOUT:-1200}"
# Seconds between two status polls.
POLL_SECONDS="${POLL_SECONDS:-15}"
# Seconds to wait for an InService instance with an online SSM agent (a woken group boots one).
INSTANCE_TIMEOUT="${INSTANCE_TIMEOUT:-900}"
# Seconds to wait for a stopping database to stop before starting it again.
DB_STOP_TIMEOUT="${DB_STOP_TIMEOUT:-1800}"

export AWS_PAGER=""
export PULUMI_SKIP_UPDATE_CHECK=true

usage() {
	cat <<'EOF'
Usage: scripts/deploy-backend.sh <command> <stack> [arguments]

Commands:
  deploy <stack> <image-tag>   Release an image: protect it from the lifecycle policy, run its
                               migrations on one instance, point the release parameter at it and
                               refresh the instances; go back to the previous release on failure.
  rollback <stack> <image-tag> Release <image-tag> again without running its migrations: the
                               schema stays as the newer release left it (migrations are
                               forward-only and compatible with the previous release).
  push <stack> <image-tag> <image.tar>
                               Push an OCI archive (docker buildx's type=oci output) holding both
                               platforms of canalco-backend:<image-tag> to the stack's ECR
                               repository as build-<image-tag> with skopeo, unless the image is
                               already there. Docker must be logged in to the registry.
  up <stack>                   pulumi up (the release is untouched), then wait for any instance
                               refresh the update started (a launch template change).
  current <stack>              Print the running release (image tag), or "none".
  wait-refresh <stack> [id]    Wait for an instance refresh (default: the newest one).
  migrate <stack> <image-tag>  Run the migrations of a pushed image once on one InService instance.

deploy, rollback, migrate and up wake a sleeping stack first.

Environment: REFRESH_TIMEOUT (default 1800 s), MIGRATION_TIMEOUT (1200 s), POLL_SECONDS (15 s),
INSTANCE_TIMEOUT (900 s), DB_STOP_TIMEOUT (1800 s).
EOF
}

log() {
	printf '%s [%s] %s\n' "$(date -u +%H:%M:%S)" "${STACK:-?}" "$*" >&2
}

fail() {
	if [[ -n "${GITHUB_ACTIONS:-}" ]]; then
		printf '::error title=deploy-backend %s::%s\n' "${STACK:-?}" "$*" >&2
	fi
	log "ERROR: $*"
	exit 1
}

require() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || fail "$tool is not installed"
	done
}

check_tag() {
	# release-<tag> must fit ECR's 128 characters and the release parameter's pattern.
	[[ "$1" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$ ]] || fail "'$1' is not a valid image tag (at most 120 characters)"
	[[ "$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" != "latest" ]] ||
		fail "use an immutable tag such as the commit SHA, not 'latest'"
	[[ "$1" != "$NO_RELEASE" ]] || fail "'$NO_RELEASE' means no release"
}

# --- Pulumi -----------------------------------------------------------------------------------

stack_output() {
	pulumi stack output "$1" --stack "$STACK" --non-interactive
}

pulumi_up() {
	log "pulumi up: $1"
	pulumi up --yes --stack "$STACK" --non-interactive --message "$1 (${GITHUB_SHA:-manual})"
}

# --- Instance refresh -------------------------------------------------------------------------

# IDs of the group's instance refreshes (last six weeks), newest first, space-separated.
refresh_ids() {
	aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$ASG" \
		--query 'InstanceRefreshes[].InstanceRefreshId' --output text | tr -s '\t\n' '  '
}

# Prints the ID of a refresh that is not in the list $1, waiting briefly for one to appear.
new_refresh_id() {
	local before=" $1 " id attempt
	for attempt in 1 2 3; do
		for id in $(refresh_ids); do
			[[ "$before" == *" $id "* ]] || {
				printf '%s\n' "$id"
				return 0
			}
		done
		[[ $attempt -eq 3 ]] || sleep 10
	done
	return 1
}

# Waits for refresh $1 (default: the newest) to end; succeeds only if it ended Successful.
# On timeout the refresh is cancelled.
wait_refresh() {
	local id=${1:-} deadline status percent reason
	if [[ -z "$id" ]]; then
		id=$(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$ASG" \
			--query 'InstanceRefreshes[0].InstanceRefreshId' --output text) || return 1
		[[ "$id" != "None" ]] || {
			log "the group has no instance refresh"
			return 0
		}
	fi
	deadline=$((SECONDS + REFRESH_TIMEOUT))
	while :; do
		read -r status percent < <(aws autoscaling describe-instance-refreshes \
			--auto-scaling-group-name "$ASG" --instance-refresh-ids "$id" \
			--query 'InstanceRefreshes[0].[Status, PercentageComplete]' --output text) || return 1
		log "instance refresh $id: $status, ${percent}% done"
		case "$status" in
		Successful)
			return 0
			;;
		Failed | Cancelled | RollbackSuccessful | RollbackFailed)
			reason=$(aws autoscaling describe-instance-refreshes --auto-scaling-group-name "$ASG" \
				--instance-refresh-ids "$id" --query 'InstanceRefreshes[0].StatusReason' --output text || true)
			log "instance refresh $id ended $status: $reason"
			return 1
			;;
		esac
		if ((SECONDS >= deadline)); then
			log "instance refresh $id still $status after ${REFRESH_TIMEOUT}s; cancelling it"
			aws autoscaling cancel-instance-refresh --auto-scaling-group-name "$ASG" >/dev/null || true
			return 1
		fi
		sleep "$POLL_SECONDS"
	done
}

# Starts an instance refresh that replaces every instance (the template did not change, only the
# release parameter did), launching each replacement before terminating an old one.
start_refresh() {
	# A refresh started by `pulumi up` may still run; a second one cannot start meanwhile.
	wait_refresh "" || log "the previous instance refresh did not succeed"
	aws autoscaling start-instance-refresh --auto-scaling-group-name "$ASG" \
		--preferences '{"MinHealthyPercentage": 100, "MaxHealthyPercentage": 200, "SkipMatching": false}' \
		--query InstanceRefreshId --output text
}

# release <tag>: points the instances at <tag> and waits until all of them run it.
release() {
	local id
	set_release "$1" || return 1
	id=$(start_refresh) || return 1
	wait_refresh "$id"
}

# --- Release parameter and image tags ---------------------------------------------------------

# Reads the stack's outputs: the group, the repository and the release parameter.
load_stack() {
	ASG=$(stack_output asgName)
	REPOSITORY_URL=$(stack_output ecrRepositoryUrl)
	REPOSITORY=${REPOSITORY_URL#*/}
	PARAMETER=$(stack_output releaseParameter)
}

current_release() {
	aws ssm get-parameter --name "$PARAMETER" --query Parameter.Value --output text
}

set_release() {
	log "release parameter $PARAMETER = $1"
	aws ssm put-parameter --name "$PARAMETER" --value "$1" --overwrite >/dev/null
}

has_tag() {
	aws ecr describe-images --repository-name "$REPOSITORY" --image-ids "imageTag=$1" >/dev/null 2>&1
}

# add_tag <existing> <new>: gives the image tagged <existing> the tag <new> too (ECR's retagging:
# PutImage with the image's own manifest; the repository's tags are immutable, so only new tags).
add_tag() {
	local image
	has_tag "$2" && return 0
	image=$(aws ecr batch-get-image --repository-name "$REPOSITORY" --image-ids "imageTag=$1" \
		--accepted-media-types application/vnd.docker.distribution.manifest.v2+json \
		application/vnd.docker.distribution.manifest.list.v2+json \
		application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.index.v1+json \
		--output json | jq -ce '.images[0]') || return 1
	aws ecr put-image --repository-name "$REPOSITORY" --image-tag "$2" \
		--image-manifest "$(jq -r .imageManifest <<<"$image")" \
		--image-manifest-media-type "$(jq -r .imageManifestMediaType <<<"$image")" >/dev/null
}

# remove_tag <tag>: takes one tag off its image; the image stays while it has another tag, and
# every caller adds the other tag first.
remove_tag() {
	local failures
	has_tag "$1" || return 0
	failures=$(aws ecr batch-delete-image --repository-name "$REPOSITORY" --image-ids "imageTag=$1" \
		--query 'failures[].failureReason' --output text) || return 1
	[[ -z "$failures" ]]
}

# protect <tag>: the image carries release-<tag> and no build- tag, so no lifecycle rule selects
# it. Images pushed before build- tags existed carry the bare <tag>, which no rule selects either.
protect() {
	local tag=$1 source found=""
	for source in "$RELEASE_PREFIX$tag" "$BUILD_PREFIX$tag" "$tag"; do
		if has_tag "$source"; then
			found=$source
			break
		fi
	done
	[[ -n "$found" ]] || fail "image $REPOSITORY:$tag is not in ECR; push it first"
	add_tag "$found" "$RELEASE_PREFIX$tag" || fail "cannot tag $RELEASE_PREFIX$tag"
	remove_tag "$BUILD_PREFIX$tag" || fail "cannot take $BUILD_PREFIX$tag off the release"
}

# unprotect <tag>: a release no longer kept for rollbacks ages out with the builds again.
unprotect() {
	if add_tag "$RELEASE_PREFIX$1" "$BUILD_PREFIX$1" && remove_tag "$RELEASE_PREFIX$1"; then
		log "$1 is no longer a recent release: tagged $BUILD_PREFIX$1"
	else
		log "could not move $RELEASE_PREFIX$1 back to $BUILD_PREFIX$1 (it stays protected)"
	fi
}

# The last KEEP_RELEASES distinct releases of the parameter's history, newest first.
recent_releases() {
	aws ssm get-parameter-history --name "$PARAMETER" --query 'Parameters[].Value' --output text |
		tr '\t' '\n' | tac | awk -v none="$NO_RELEASE" '$0 != none && !seen[$0]++' | head -n "$KEEP_RELEASES"
}

# Moves the release- tag off every release but the recent ones.
prune_releases() {
	local keep tag
	keep=" $(recent_releases | tr '\n' ' ') "
	for tag in $(aws ecr list-images --repository-name "$REPOSITORY" --filter tagStatus=TAGGED \
		--query "imageIds[?starts_with(imageTag, '$RELEASE_PREFIX')].imageTag" --output text); do
		tag=${tag#"$RELEASE_PREFIX"}
		[[ "$keep" == *" $tag "* ]] || unprotect "$tag"
	done
}

# --- A sleeping stack ------------------------------------------------------------------------

db_status() {
	aws rds describe-db-instances --db-instance-identifier "$1" --query 'DBInstances[0].DBInstanceStatus' --output text
}

# wake: the database started and available, then the group at its office-hours size. A stack
# that does not sleep, or is awake, is left as it is.
wake() {
	local endpoint db status deadline desired min max
	# Before the first deployment the stack has no outputs, and nothing sleeps.
	endpoint=$(stack_output dbEndpoint 2>/dev/null) || return 0
	db=${endpoint%%.*}
	status=$(db_status "$db")
	deadline=$((SECONDS + DB_STOP_TIMEOUT))
	while [[ "$status" == "stopping" ]]; do
		((SECONDS < deadline)) || fail "database $db still stopping after ${DB_STOP_TIMEOUT}s"
		log "database $db is stopping; it can start once stopped"
		sleep "$POLL_SECONDS"
		status=$(db_status "$db")
	done
	if [[ "$status" == "stopped" ]]; then
		log "database $db is asleep: starting it"
		aws rds start-db-instance --db-instance-identifier "$db" >/dev/null
	fi
	if [[ "$status" != "available" ]]; then
		log "waiting for database $db to be available (was $status)"
		aws rds wait db-instance-available --db-instance-identifier "$db" || fail "database $db did not become available"
	fi

	ASG=${ASG:-$(stack_output asgName)}
	desired=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$ASG" \
		--query 'AutoScalingGroups[0].DesiredCapacity' --output text)
	[[ "$desired" == "0" ]] || return 0
	read -r min max desired < <(aws autoscaling describe-scheduled-actions --auto-scaling-group-name "$ASG" \
		--scheduled-action-names "$ASG-wake" \
		--query 'ScheduledUpdateGroupActions[0].[MinSize, MaxSize, DesiredCapacity]' --output text)
	if [[ ! "$min" =~ ^[1-9][0-9]*$ ]]; then
		log "the group has no instance and no wake action: left as it is"
		return 0
	fi
	log "the group is asleep: scaling it to $desired instances (its office-hours size) until the next sleep"
	aws autoscaling update-auto-scaling-group --auto-scaling-group-name "$ASG" \
		--min-size "$min" --max-size "$max" --desired-capacity "$desired"
}

# --- Migrations -------------------------------------------------------------------------------

# Prints one InService, healthy instance of the group whose SSM agent is online.
pick_instance() {
	local deadline=$((SECONDS + INSTANCE_TIMEOUT)) ids id ping
	while :; do
		ids=$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$ASG" \
			--query "AutoScalingGroups[0].Instances[?LifecycleState=='InService' && HealthStatus=='Healthy'].InstanceId" \
			--output text) || return 1
		for id in $ids; do
			[[ "$id" == i-* ]] || continue
			ping=$(aws ssm describe-instance-information --filters "Key=InstanceIds,Values=$id" \
				--query 'InstanceInformationList[0].PingStatus' --output text) || return 1
			if [[ "$ping" == "Online" ]]; then
				printf '%s\n' "$id"
				return 0
			fi
		done
		((SECONDS < deadline)) || return 1
		log "waiting for an InService instance with an online SSM agent"
		sleep "$POLL_SECONDS"
	done
}

invocation() {
	aws ssm get-command-invocation --command-id "$1" --instance-id "$2" --query "$3" --output text
}

# Runs canalco-run-migrations <tag> on one instance: the new release's migrations while the
# running release still serves, so they must keep the running code working (expand, then contract).
run_migrations() {
	local tag=$1 instance command_id status deadline parameters
	instance=$(pick_instance) || {
		log "no InService instance of $ASG has an online SSM agent"
		return 1
	}
	log "running the database migrations of $tag on $instance"
	parameters=$(jq -cn --arg timeout "$MIGRATION_TIMEOUT" --arg tag "$tag" \
		'{commands: ["sudo /usr/local/bin/canalco-run-migrations " + $tag], executionTimeout: [$timeout]}')
	command_id=$(aws ssm send-command --document-name AWS-RunShellScript \
		--instance-ids "$instance" --comment "canalco $STACK database migrations" \
		--timeout-seconds 600 --parameters "$parameters" \
		--query Command.CommandId --output text) || return 1
	log "SSM command $command_id"

	# The waiter gives up after 100 s or when the command fails; loop until a final status.
	deadline=$((SECONDS + MIGRATION_TIMEOUT + 600))
	while :; do
		if aws ssm wait command-executed --command-id "$command_id" --instance-id "$instance" 2>/dev/null; then
			break
		fi
		status=$(invocation "$command_id" "$instance" Status 2>/dev/null || true)
		case "$status" in
		"" | Pending | InProgress | Delayed) ;;
		*) break ;;
		esac
		if ((SECONDS >= deadline)); then
			log "the migrations are still ${status:-pending}; cancelling the command"
			aws ssm cancel-command --command-id "$command_id" >/dev/null || true
			break
		fi
	done

	status=$(invocation "$command_id" "$instance" Status) || return 1
	log "migration output (first 24,000 characters):"
	invocation "$command_id" "$instance" StandardOutputContent >&2 || true
	log "migration errors:"
	invocation "$command_id" "$instance" StandardErrorContent >&2 || true
	log "migrations ended $status"
	[[ "$status" == "Success" ]]
}

# --- Commands ---------------------------------------------------------------------------------

cmd_deploy() {
	local tag=$1 previous
	check_tag "$tag"
	load_stack
	previous=$(current_release) || fail "cannot read $PARAMETER"
	log "deploying $tag (running: $previous)"
	wake
	protect "$tag"
	run_migrations "$tag" || fail "the database migrations of $tag failed; $previous still runs"
	if release "$tag"; then
		prune_releases
		log "release $tag is live"
		return 0
	fi
	if [[ "$previous" == "$NO_RELEASE" || "$previous" == "$tag" ]]; then
		fail "the instance refresh to $tag did not succeed; there is no previous release to go back to"
	fi
	log "the instance refresh to $tag did not succeed; rolling back to $previous"
	release "$previous" || fail "the instance refresh to $tag failed, and so did the rollback to $previous"
	fail "the instance refresh to $tag did not succeed; rolled back to $previous"
}

cmd_rollback() {
	local tag=$1
	check_tag "$tag"
	load_stack
	wake
	protect "$tag"
	release "$tag" || fail "the instance refresh to $tag did not succeed"
	prune_releases
	log "release $tag is live again; the database schema was not changed"
}

cmd_up() {
	local before="" id
	# Before the first deployment the stack has no outputs yet.
	if ASG=$(stack_output asgName 2>/dev/null); then
		wake
		before=$(refresh_ids)
	fi
	pulumi_up "infrastructure"
	ASG=$(stack_output asgName)
	if id=$(new_refresh_id "$before"); then
		wait_refresh "$id" || fail "the instance refresh did not succeed"
	else
		log "the update started no instance refresh"
	fi
}

cmd_push() {
	local tag=$1 archive=$2 existing
	check_tag "$tag"
	load_stack
	for existing in "$RELEASE_PREFIX$tag" "$BUILD_PREFIX$tag"; do
		if has_tag "$existing"; then
			log "$REPOSITORY_URL:$existing is already in ECR"
			return 0
		fi
	done
	# The archive is a multi-architecture OCI image (arm64 and amd64): skopeo copies every
	# platform and the index; docker load would keep only the runner's own. skopeo reads the
	# ECR login docker wrote.
	skopeo copy --all "oci-archive:$archive" "docker://$REPOSITORY_URL:$BUILD_PREFIX$tag"
}

need_args() {
	local count=$1
	shift
	if (($# < count)); then
		usage >&2
		exit 2
	fi
}

main() {
	local command=${1:-} archive=""
	case "$command" in
	deploy | rollback | migrate) need_args 3 "$@" ;;
	push) need_args 4 "$@" ;;
	up | current | wait-refresh) need_args 2 "$@" ;;
	-h | --help | help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	STACK=$2
	[[ "$STACK" =~ ^[a-z0-9][a-z0-9-]*$ ]] || fail "'$STACK' is not a stack name"
	require aws pulumi jq
	if [[ "$command" == "push" ]]; then
		require skopeo
		[[ -f "$4" ]] || fail "no image archive at $4"
		archive="$(cd "$(dirname "$4")" && pwd)/$(basename "$4")"
	fi
	# Pulumi needs the project directory (Pulumi.yaml).
	cd "$(dirname "$0")/.."

	case "$command" in
	deploy) cmd_deploy "$3" ;;
	rollback) cmd_rollback "$3" ;;
	push) cmd_push "$3" "$archive" ;;
	up) cmd_up ;;
	current)
		load_stack
		current_release
		;;
	wait-refresh)
		ASG=$(stack_output asgName)
		wait_refresh "${3:-}" || fail "the instance refresh did not succeed"
		;;
	migrate)
		check_tag "$3"
		load_stack
		wake
		protect "$3"
		run_migrations "$3" || fail "the database migrations failed"
		;;
	esac
}

main "$@"
