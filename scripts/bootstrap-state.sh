#!/usr/bin/env bash
# Prepares a fresh AWS account and region for Pulumi: the KMS key that encrypts stack secrets
# and the S3 bucket that holds the state. Safe to run again: it creates only what is missing and
# re-applies the bucket settings (each setting is a declarative PUT).
#
# Creates:
#   - KMS key with yearly rotation, alias alias/<prefix>-pulumi-secrets
#   - S3 bucket <prefix>-pulumi-state-<account-id>-<region>: versioning, SSE-KMS with the key
#     above and a bucket key, all four public access blocks, BucketOwnerEnforced ownership
#     (ACLs off), a policy that denies plain HTTP, and a lifecycle rule that expires
#     noncurrent state versions after 90 days
#
# Run it once per account and region with administrator credentials (an MFA session). Needs
# the AWS CLI v2.

set -euo pipefail

readonly NONCURRENT_DAYS=90

export AWS_PAGER=""

usage() {
	cat <<'EOF'
Usage: scripts/bootstrap-state.sh <name-prefix> <region>

  name-prefix  prefix of the names, normally "canalco": bucket canalco-pulumi-state-<account-id>-<region>,
               key alias alias/canalco-pulumi-secrets
  region       AWS region of the stacks, e.g. us-east-1

The credentials in the environment (AWS_PROFILE, ...) choose the account.
EOF
}

log() {
	printf '%s\n' "$*" >&2
}

fail() {
	log "ERROR: $*"
	exit 1
}

# Runs an AWS CLI read. Succeeds if the resource exists, fails if it does not, and stops the
# script on any other error (access denied, expired credentials, ...).
exists() {
	local error
	if error=$(aws "$@" 2>&1 >/dev/null); then
		return 0
	fi
	case "$error" in
	*NotFoundException* | *NoSuchBucket* | *"(404)"* | *"Not Found"*) return 1 ;;
	esac
	log "$error"
	fail "aws $* failed"
}

main() {
	if [[ $# -ne 2 ]]; then
		usage >&2
		exit 2
	fi
	local prefix=$1 region=$2
	[[ "$prefix" =~ ^[a-z0-9][a-z0-9-]{0,19}$ ]] || fail "name prefix: 1 to 20 lower-case letters, digits or -"
	[[ "$region" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || fail "'$region' is not an AWS region name"
	command -v aws >/dev/null || fail "the AWS CLI is not installed"
	[[ "$(aws --version 2>&1)" == aws-cli/2.* ]] || fail "this script needs the AWS CLI v2 (found: $(aws --version 2>&1))"
	export AWS_REGION=$region AWS_DEFAULT_REGION=$region

	local account caller partition alias
	read -r account caller < <(aws sts get-caller-identity --query '[Account, Arn]' --output text) ||
		fail "no AWS credentials: log in first (aws sso login, or an MFA session)"
	partition=$(cut -d: -f2 <<<"$caller")
	alias=$(aws iam list-account-aliases --query 'AccountAliases[0]' --output text 2>/dev/null || echo "?")
	log "Account $account (alias: $alias), region $region, as $caller"

	# --- KMS key for the secrets provider ---
	local key_alias="alias/${prefix}-pulumi-secrets" key_id key_arn key_state
	if exists kms describe-key --key-id "$key_alias"; then
		key_id=$(aws kms describe-key --key-id "$key_alias" --query KeyMetadata.KeyId --output text)
		log "KMS key $key_alias exists ($key_id)"
	else
		key_id=$(aws kms create-key \
			--description "Pulumi secrets provider of the ${prefix} stacks" \
			--key-usage ENCRYPT_DECRYPT --key-spec SYMMETRIC_DEFAULT \
			--tags "TagKey=Project,TagValue=${prefix}" "TagKey=Purpose,TagValue=pulumi-secrets" \
			--query KeyMetadata.KeyId --output text)
		aws kms create-alias --alias-name "$key_alias" --target-key-id "$key_id"
		log "created KMS key $key_alias ($key_id)"
	fi
	read -r key_arn key_state < <(aws kms describe-key --key-id "$key_id" \
		--query 'KeyMetadata.[Arn, KeyState]' --output text)
	[[ "$key_state" == "Enabled" ]] || fail "KMS key $key_id is $key_state, not Enabled"
	if [[ "$(aws kms get-key-rotation-status --key-id "$key_id" --query KeyRotationEnabled --output text)" != "True" ]]; then
		aws kms enable-key-rotation --key-id "$key_id"
		log "enabled yearly rotation of $key_alias"
	else
		log "rotation of $key_alias is on"
	fi

	# --- S3 bucket for the state ---
	local bucket="${prefix}-pulumi-state-${account}-${region}"
	((${#bucket} <= 63)) || fail "bucket name $bucket is longer than 63 characters"
	# head-bucket answers 403 when another account owns the name.
	if exists s3api head-bucket --bucket "$bucket" --expected-bucket-owner "$account"; then
		log "bucket $bucket exists"
	else
		if [[ "$region" == "us-east-1" ]]; then
			aws s3api create-bucket --bucket "$bucket" --object-ownership BucketOwnerEnforced >/dev/null
		else
			aws s3api create-bucket --bucket "$bucket" --object-ownership BucketOwnerEnforced \
				--create-bucket-configuration "LocationConstraint=$region" >/dev/null
		fi
		aws s3api wait bucket-exists --bucket "$bucket" --expected-bucket-owner "$account"
		log "created bucket $bucket"
	fi

	aws s3api put-public-access-block --bucket "$bucket" --expected-bucket-owner "$account" \
		--public-access-block-configuration \
		BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
	aws s3api put-bucket-ownership-controls --bucket "$bucket" --expected-bucket-owner "$account" \
		--ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'
	aws s3api put-bucket-versioning --bucket "$bucket" --expected-bucket-owner "$account" \
		--versioning-configuration Status=Enabled
	aws s3api put-bucket-encryption --bucket "$bucket" --expected-bucket-owner "$account" \
		--server-side-encryption-configuration "$(
			cat <<EOF
{
  "Rules": [
    {
      "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "$key_arn"},
      "BucketKeyEnabled": true
    }
  ]
}
EOF
		)"
	aws s3api put-bucket-policy --bucket "$bucket" --expected-bucket-owner "$account" --policy "$(
		cat <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyInsecureTransport",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:${partition}:s3:::${bucket}", "arn:${partition}:s3:::${bucket}/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }
  ]
}
EOF
	)"
	aws s3api put-bucket-lifecycle-configuration --bucket "$bucket" --expected-bucket-owner "$account" \
		--lifecycle-configuration "$(
			cat <<EOF
{
  "Rules": [
    {
      "ID": "expire-noncurrent-state",
      "Status": "Enabled",
      "Filter": {"Prefix": ""},
      "NoncurrentVersionExpiration": {"NoncurrentDays": ${NONCURRENT_DAYS}},
      "Expiration": {"ExpiredObjectDeleteMarker": true},
      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}
    }
  ]
}
EOF
		)" >/dev/null
	aws s3api put-bucket-tagging --bucket "$bucket" --expected-bucket-owner "$account" \
		--tagging "TagSet=[{Key=Project,Value=${prefix}},{Key=Purpose,Value=pulumi-state}]"
	log "bucket $bucket: versioning, SSE-KMS with bucket key, public access blocked, ACLs off, TLS only, noncurrent versions expire after ${NONCURRENT_DAYS} days"

	cat <<EOF

Done. Account $account, region $region.

Log in to the state backend (also the GitHub variable PULUMI_BACKEND_URL):
  pulumi login 's3://${bucket}?region=${region}'

Create each stack with the KMS secrets provider:
  pulumi stack init <stack> --secrets-provider 'awskms://${key_alias}?region=${region}'

Existing stack moved to this account:
  pulumi stack change-secrets-provider --stack <stack> 'awskms://${key_alias}?region=${region}'
EOF
}

main "$@"
