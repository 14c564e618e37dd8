#!/usr/bin/env bash
# Rolls a backend image out to one Canalco stack and checks that it took.
#
# A release (`deploy`) does, in order:
#   1. records the image tag the stack runs now (from its last successful deployment),
#   2. sets canalco:backendImageTag to the new tag and runs `pulumi up`,
#   3. waits for the instance refresh of the Auto Scaling group to finish,
#   4. runs the database migrations once, through SSM Run Command, on one InService instance,
#   5. on any failure in 2-4: sets the recorded tag back, runs `pulumi up` again, waits for that
#      refresh and exits non-zero.
#
# The tag is set in the working copy of Pulumi.<stack>.yaml only and never committed: the running
# tag is the one recorded in the stack's deployment history, and every deployment (including a
# plain `up`) carries it over. See docs/delivery.md.
#
# Run it from anywhere in the repository, with AWS credentials for the stack's account and
# PULUMI_BACKEND_URL (or `pulumi login`) pointing at the state bucket. Needs aws (CLI v2),
# pulumi, jq, and docker for `push`.

set -euo pipefail

readonly TAG_KEY="canalco:backendImageTag"
# Seconds to wait for an instance refresh to finish.
REFRESH_TIMEOUT="${REFRESH_TIMEOUT:-1800}"
# Seconds a migration may run on the instance.
MIGRATION_TIMEOUT="${MIGRATION_TIMEOUT:-1200}"
# Seconds between two status polls.
POLL_SECONDS="${POLL_SECONDS:-15}"

export AWS_PAGER=""
export PULUMI_SKIP_UPDATE_CHECK=true

usage() {
	cat <<'EOF'
Usage: scripts/deploy-backend.sh <command> <stack> [arguments]

Commands:
  deploy <stack> <image-tag>   Release an image: pulumi up with the tag, wait for the instance
                               refresh, run the migrations; roll back to the previous tag on failure.
  up <stack>                   pulumi up keeping the running image tag, then wait for any
                               instance refresh the update started (no migrations, no rollback).
  push <stack> <image-tag> <image.tar>
                               Push a `docker save` archive holding canalco-backend:<image-tag>
                               to the stack's ECR repository, unless the tag is already there.
                               Docker must be logged in to the registry.
  pin <stack>                  Set the local canalco:backendImageTag to the running tag (used
                               before a preview so it shows no image change).
  current-tag <stack>          Print the running image tag.
  wait-refresh <stack> [id]    Wait for an instance refresh (default: the newest one).
  migrate <stack>              Run the database migrations once on one InService instance.
  rollback <stack> <image-tag> Deploy <image-tag> again without migrations (a manual rollback).

Environment: REFRESH_TIMEOUT (default 1800 s), MIGRATION_TIMEOUT (1200 s), POLL_SECONDS (15 s).
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
	[[ "$1" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || fail "'$1' is not a valid image tag"
	[[ "$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" != "latest" ]] ||
		fail "use an immutable tag such as the commit SHA, not 'latest'"
}

# --- Pulumi -----------------------------------------------------------------------------------

stack_output() {
	pulumi stack output "$1" --stack "$STACK" --non-interactive
}

set_tag() {
	pulumi config set "$TAG_KEY" "$1" --stack "$STACK" --non-interactive
}

# The image tag of the last successful `pulumi up` of the stack, or nothing if there is none.
deployed_tag() {
	local history
	history=$(pulumi stack history --stack "$STACK" --json --page-size 100 --non-interactive) ||
		fail "cannot read the history of stack $STACK"
	jq -r --arg key "$TAG_KEY" \
		'map(select(.kind == "update" and .result == "succeeded")) | first | .config[$key].value // empty' \
		<<<"$history"
}

# The running tag, or the stack file's value before the first deployment.
current_tag() {
	local tag
	tag=$(deployed_tag)
	if [[ -z "$tag" ]]; then
		tag=$(pulumi config get "$TAG_KEY" --stack "$STACK" --non-interactive 2>/dev/null || true)
	fi
	printf '%s\n' "$tag"
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

# Set once this script had to start a refresh itself: the update changed the image but the
# program started no refresh, so a rollback must start one too.
STARTED_REFRESH=""

# Waits for the refresh the last `pulumi up` started; $1 lists the refreshes from before it.
# With $2 = start, a refresh is started when the update started none (the image changed, so the
# instances must be replaced even if the launch template did not change).
wait_rollout() {
	local before=$1 missing=${2:-skip} id
	if ! id=$(new_refresh_id "$before"); then
		if [[ "$missing" != "start" ]]; then
			log "the update started no instance refresh"
			return 0
		fi
		log "the update started no instance refresh; starting one"
		id=$(aws autoscaling start-instance-refresh --auto-scaling-group-name "$ASG" \
			--preferences '{"MinHealthyPercentage": 100, "MaxHealthyPercentage": 200}' \
			--query InstanceRefreshId --output text) || return 1
		STARTED_REFRESH=yes
	fi
	wait_refresh "$id"
}

# --- Migrations -------------------------------------------------------------------------------

# Prints one InService, healthy instance of the group whose SSM agent is online.
pick_instance() {
	local deadline=$((SECONDS + 300)) ids id ping
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

run_migrations() {
	local instance command_id status deadline parameters
	instance=$(pick_instance) || {
		log "no InService instance of $ASG has an online SSM agent"
		return 1
	}
	log "running the database migrations on $instance"
	parameters=$(jq -cn --arg timeout "$MIGRATION_TIMEOUT" \
		'{commands: ["sudo /usr/local/bin/canalco-run-migrations"], executionTimeout: [$timeout]}')
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

# Goes back to tag $1 after failure $2, then exits non-zero either way.
roll_back() {
	local previous=$1 reason=$2 before
	log "$reason"
	if [[ -z "$previous" ]]; then
		fail "$reason; there is no previous image tag to roll back to"
	fi
	log "rolling back to image $previous"
	before=$(refresh_ids) || fail "$reason; rollback failed: cannot list instance refreshes"
	set_tag "$previous" || fail "$reason; rollback failed: cannot set the tag"
	pulumi_up "backend rollback to $previous" || fail "$reason; rollback failed: pulumi up failed"
	# The rollback update starts a refresh when the failed one had changed the instances; only
	# when this script started the failed refresh itself must it start this one too.
	wait_rollout "$before" "${STARTED_REFRESH:+start}" ||
		fail "$reason; rollback failed: the instance refresh did not succeed"
	fail "$reason; rolled back to image $previous"
}

cmd_deploy() {
	local tag=$1 previous repository before
	check_tag "$tag"
	ASG=$(stack_output asgName)
	repository=$(stack_output ecrRepositoryUrl)
	aws ecr describe-images --repository-name "${repository#*/}" --image-ids "imageTag=$tag" >/dev/null ||
		fail "image $repository:$tag is not in ECR; push it first"

	previous=$(current_tag)
	if [[ "$previous" == "$tag" ]]; then
		log "image $tag is already the running image; deploying it again"
		previous=""
	fi
	log "deploying image $tag (running: ${previous:-none})"

	before=$(refresh_ids)
	set_tag "$tag"
	pulumi_up "backend $tag" || roll_back "$previous" "pulumi up failed"
	wait_rollout "$before" start || roll_back "$previous" "the instance refresh did not succeed"
	run_migrations || roll_back "$previous" "the database migrations failed"
	log "image $tag is live"
}

cmd_up() {
	local before=""
	cmd_pin
	# Before the first deployment the stack has no outputs yet.
	if ASG=$(stack_output asgName 2>/dev/null); then
		before=$(refresh_ids)
	fi
	pulumi_up "infrastructure"
	ASG=$(stack_output asgName)
	wait_rollout "$before" skip || fail "the instance refresh did not succeed"
}

cmd_push() {
	local tag=$1 archive=$2 repository
	check_tag "$tag"
	repository=$(stack_output ecrRepositoryUrl)
	if aws ecr describe-images --repository-name "${repository#*/}" --image-ids "imageTag=$tag" >/dev/null 2>&1; then
		log "$repository:$tag is already in ECR"
		return 0
	fi
	# The archive is a multi-architecture OCI image (arm64 and amd64): skopeo copies every
	# platform and the index; docker load would keep only the runner's own. skopeo reads the
	# ECR login docker wrote.
	skopeo copy --all "oci-archive:$archive" "docker://$repository:$tag"
}

cmd_pin() {
	local tag
	tag=$(deployed_tag)
	if [[ -z "$tag" ]]; then
		log "no deployment has set $TAG_KEY yet; keeping the stack file's value"
		return 0
	fi
	log "pinning $TAG_KEY to the running image $tag"
	set_tag "$tag"
}

cmd_rollback() {
	local tag=$1 before
	check_tag "$tag"
	ASG=$(stack_output asgName)
	before=$(refresh_ids)
	set_tag "$tag"
	pulumi_up "backend rollback to $tag"
	wait_rollout "$before" start || fail "the instance refresh did not succeed"
	log "image $tag is live again; the database schema was not changed"
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
	deploy | rollback) need_args 3 "$@" ;;
	push) need_args 4 "$@" ;;
	up | pin | current-tag | migrate | wait-refresh) need_args 2 "$@" ;;
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
		require docker
		[[ -f "$4" ]] || fail "no image archive at $4"
		archive="$(cd "$(dirname "$4")" && pwd)/$(basename "$4")"
	fi
	# Pulumi needs the project directory (Pulumi.yaml).
	cd "$(dirname "$0")/.."

	case "$command" in
	deploy) cmd_deploy "$3" ;;
	up) cmd_up ;;
	push) cmd_push "$3" "$archive" ;;
	pin) cmd_pin ;;
	current-tag) current_tag ;;
	wait-refresh)
		ASG=$(stack_output asgName)
		wait_refresh "${3:-}" || fail "the instance refresh did not succeed"
		;;
	migrate)
		ASG=$(stack_output asgName)
		run_migrations || fail "the database migrations failed"
		;;
	rollback) cmd_rollback "$3" ;;
	esac
}

main "$@"
