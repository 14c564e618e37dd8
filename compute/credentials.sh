#!/bin/bash
# canalco-app-credentials <session-name>: assumes the application role (APP_ROLE_ARN) with the
# instance's credentials and writes its short-lived credentials, in the credential_process
# format, where the backend container reads them (read-only). A systemd timer runs it every 15
# minutes and at every boot before Docker; the sessions last an hour, so botocore, which
# refreshes by Expiration, always finds fresh ones in the file (docs/compute.md).
set -euo pipefail

readonly REGION={{q .Region}}
readonly APP_ROLE_ARN={{q .AppRoleArn}}
readonly DIR={{q .CredentialsDir}}
readonly GROUP={{q .CredentialsGroup}}

session=${1:-}
if [[ ! "$session" =~ ^[A-Za-z0-9+=,.@_-]{2,64}$ ]]; then
	echo "usage: canalco-app-credentials <session-name>" >&2
	exit 2
fi

# Readable by root and by the container's supplementary group only; written beside the file and
# renamed over it, so a reader sees the old credentials or the new, never half of them. The
# directory is mounted, not the file: a renamed file is seen through a directory mount.
install -d -m 750 -g "$GROUP" "$DIR"
tmp=$(mktemp "$DIR/.credentials.XXXXXX")
trap 'rm -f "$tmp"' EXIT
aws sts assume-role --region "$REGION" --role-arn "$APP_ROLE_ARN" --role-session-name "$session" \
	--duration-seconds 3600 --output json |
	jq -e '.Credentials | select(.SessionToken) | {Version: 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration}' >"$tmp"
chgrp "$GROUP" "$tmp"
chmod 640 "$tmp"
mv -f "$tmp" "$DIR/credentials.json"
