#!/usr/bin/env bash
# The yearly disaster-recovery rehearsal: the whole-database recovery of docs/disaster-recovery.md
# ("Point-in-time restore", the whole database), run end to end on staging and timed step by step.
#
#   scripts/dr-rehearsal.sh [--dry-run] [stack]     (stack: staging, the default; never prod)
#
# Steps, each timed:
#   1. restore the database to its latest restorable time as <db>-restore, and wait for it;
#   2. give the restore an RDS-managed master secret;
#   3. rename the live instance to <db>-old, and wait;
#   4. rename the restore to the live name, and wait;
#   5. bring it under the stack: `pulumi state unprotect` and `pulumi state delete` of the old
#      instance's state, `pulumi import` of the live name by its identifier (pulumi-aws v6 imports
#      an instance by identifier; its ID in state is then the new instance's), protected, under
#      the same parent;
#   6. `pulumi preview`, which must plan no replacement (the script stops otherwise), then
#      `pulumi up` to converge what the restore does not carry (monitoring, log exports, windows);
# then prints the end-to-end RTO. The old instance stays, with deletion protection, for the
# clean-up step of the runbook.
#
# --dry-run reads the stack's state (pulumi stack export) and prints every command with the URNs
# it would use, changing nothing. Needs aws (CLI v2), pulumi and jq, an administrator's MFA
# session (docs/identities.md), and the stack's Pulumi backend.

set -euo pipefail

DRY_RUN=""
if [[ "${1:-}" == "--dry-run" ]]; then
	DRY_RUN=1
	shift
fi
STACK=${1:-staging}
[[ "$STACK" =~ ^[a-z0-9][a-z0-9-]*$ ]] || {
	echo "'$STACK' is not a stack name" >&2
	exit 2
}
if [[ "$STACK" == "prod" ]]; then
	echo "the rehearsal runs on staging (or another copy), never on prod" >&2
	exit 2
fi
readonly INSTANCE_TYPE="aws:rds/instance:Instance"
DB="canalco-$STACK-postgres"

export AWS_PAGER="" PULUMI_SKIP_UPDATE_CHECK=true
cd "$(dirname "$0")/.."

STEPS=()
START=$SECONDS

# step <name> <command...>: runs (or, in a dry run, prints) one timed step.
step() {
	local name=$1 began=$SECONDS
	shift
	printf '== %s\n' "$name" >&2
	printf '   $ %s\n' "$*" >&2
	if [[ -z "$DRY_RUN" ]]; then
		"$@"
	fi
	STEPS+=("$(printf '%-52s %6ds' "$name" $((SECONDS - began)))")
}

# The live instance's URN and its parent's, from the stack's state.
state=$(pulumi stack export --stack "$STACK")
urn=$(jq -er --arg t "$INSTANCE_TYPE" --arg id "$DB" \
	'.deployment.resources[] | select(.type == $t and .outputs.identifier == $id) | .urn' <<<"$state") ||
	{
		echo "no $INSTANCE_TYPE named $DB in the state of $STACK" >&2
		exit 1
	}
parent=$(jq -er --arg u "$urn" '.deployment.resources[] | select(.urn == $u) | .parent' <<<"$state")
name=${urn##*::}

# Options the stack sets only at creation, read from the live instance (docs/disaster-recovery.md
# step 3): the same subnet group, security groups, parameter group, class and Multi-AZ.
restore() {
	local live
	live=$(aws rds describe-db-instances --db-instance-identifier "$DB" --query 'DBInstances[0]' --output json)
	aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier "$DB" \
		--target-db-instance-identifier "$DB-restore" --use-latest-restorable-time \
		--db-subnet-group-name "$(jq -r .DBSubnetGroup.DBSubnetGroupName <<<"$live")" \
		--vpc-security-group-ids "$(jq -r '.VpcSecurityGroups[0].VpcSecurityGroupId' <<<"$live")" \
		--db-parameter-group-name "$(jq -r '.DBParameterGroups[0].DBParameterGroupName' <<<"$live")" \
		--db-instance-class "$(jq -r .DBInstanceClass <<<"$live")" --storage-type gp3 \
		"$(jq -r 'if .MultiAZ then "--multi-az" else "--no-multi-az" end' <<<"$live")" \
		--no-publicly-accessible --enable-iam-database-authentication --copy-tags-to-snapshot \
		--deletion-protection --engine-lifecycle-support open-source-rds-extended-support-disabled >/dev/null
	aws rds wait db-instance-available --db-instance-identifier "$DB-restore"
}

rename() {
	aws rds modify-db-instance --db-instance-identifier "$1" --new-db-instance-identifier "$2" --apply-immediately >/dev/null
	# The old name answers until the rename applies: wait for the new one.
	until aws rds describe-db-instances --db-instance-identifier "$2" >/dev/null 2>&1; do sleep 15; done
	aws rds wait db-instance-available --db-instance-identifier "$2"
}

managed_secret() {
	aws rds modify-db-instance --db-instance-identifier "$DB-restore" --manage-master-user-password \
		--master-user-secret-kms-key-id "alias/canalco-$STACK-data" --apply-immediately >/dev/null
	aws rds wait db-instance-available --db-instance-identifier "$DB-restore"
}

# The preview must replace nothing: a replacement of the database here is a second outage.
no_replacement() {
	local replaced
	replaced=$(pulumi preview --stack "$STACK" --non-interactive --json |
		jq -r '[.steps[]? | select(.op == "replace" or .op == "create-replacement" or .op == "delete-replaced") | .urn] | unique | .[]')
	if [[ -n "$replaced" ]]; then
		printf 'the preview replaces:\n%s\nstop here and compare the restore with the stack (runbook step 3)\n' "$replaced" >&2
		return 1
	fi
}

step "restore to the latest restorable time" restore
step "managed master secret on the restore" managed_secret
step "rename the live instance to $DB-old" rename "$DB" "$DB-old"
step "rename the restore to $DB" rename "$DB-restore" "$DB"
step "unprotect the old instance's state" pulumi state unprotect "$urn" --stack "$STACK" --yes
step "delete the old instance's state" pulumi state delete "$urn" --stack "$STACK" --yes
step "import $DB by identifier, protected" pulumi import "$INSTANCE_TYPE" "$name" "$DB" --stack "$STACK" \
	--parent "database=$parent" --protect --generate-code=false --yes
step "preview: no replacement" no_replacement
step "pulumi up" pulumi up --stack "$STACK" --yes --non-interactive --message "disaster-recovery rehearsal"

printf '\nDisaster-recovery rehearsal of %s%s\n' "$STACK" "${DRY_RUN:+ (dry run: nothing was changed)}"
printf '%s\n' "${STEPS[@]}"
printf '%-52s %6ds\n' "end-to-end RTO" $((SECONDS - START))
