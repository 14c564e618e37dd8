#!/bin/bash
# canalco-run-migrations: runs the database migrations once, in the backend image this instance
# serves, with its environment. The release pipeline runs it through SSM Run Command on one
# InService instance; its output goes to the command's output and to
# /var/log/canalco/migrations.log, which the CloudWatch agent ships.
set -euo pipefail

readonly REGION={{q .Region}}
readonly IMAGE={{q .Image}}
readonly REGISTRY={{q .Registry}}
readonly ENV_FILE=/etc/canalco/backend.env
readonly CA_BUNDLE={{q .CABundle}}
readonly LOG=/var/log/canalco/migrations.log
# The command is split on spaces: settings allow no quotes or shell syntax in it.
read -r -a MIGRATION <<<{{q .MigrationCommand}}

if [[ -z "$IMAGE" ]]; then
	echo "no backend image is deployed on this instance yet: nothing to migrate"
	exit 0
fi

mkdir -p "$(dirname "$LOG")"
printf '%s migrations with %s: %s\n' "$(date -u +%FT%TZ)" "$IMAGE" "${MIGRATION[*]}" | tee -a "$LOG"
# The registry login of the boot expires after 12 hours; the image is normally still cached.
aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY" >/dev/null
docker run --rm --network host --env-file "$ENV_FILE" --volume "$CA_BUNDLE:$CA_BUNDLE:ro" "$IMAGE" "${MIGRATION[@]}" 2>&1 | tee -a "$LOG"
