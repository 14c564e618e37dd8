#!/bin/bash
# canalco-run-migrations <release>: migrates the database for a release before it takes traffic.
# The release script runs it through SSM Run Command on one instance, with the new release while
# the old one still serves; its output goes to the command's output and to
# /var/log/canalco/migrations.log, which the CloudWatch agent ships. In order:
#   1. reads the RDS-managed master secret now (RDS rotates it every 7 days: never a stored copy),
#   2. creates or updates the backend's own role {{.AppUser}} (IAM authentication), idempotently,
#   3. runs the migration command in the release's image as the master user.
set -euo pipefail

readonly REGION={{q .Region}}
readonly REPOSITORY={{q .Repository}}
readonly REGISTRY={{q .Registry}}
readonly RELEASE_TAG_PREFIX={{q .ReleaseTagPrefix}}
readonly SECRET_ARN={{q .SecretArn}}
readonly DATABASE_PARAMETER={{q .DatabaseParameter}}
readonly DATABASE_PORT={{.DatabasePort}}
readonly DATABASE_NAME={{q .DatabaseName}}
readonly APP_USER={{q .AppUser}}
readonly ENV_FILE=/etc/canalco/backend.env
readonly CA_BUNDLE={{q .CABundle}}
readonly LOG=/var/log/canalco/migrations.log
# The image's own migration command, its first word run as the entrypoint so that it works
# whatever ENTRYPOINT the image has (python manage.py migrate, alembic upgrade head). Settings
# allow no quotes or shell syntax in it, so splitting on spaces is exact.
read -r -a MIGRATION <<<{{q .MigrationCommand}}

release=${1:-}
if [[ ! "$release" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$ ]]; then
	echo "usage: canalco-run-migrations <release>" >&2
	exit 2
fi
readonly IMAGE="$REPOSITORY:$RELEASE_TAG_PREFIX$release"

mkdir -p "$(dirname "$LOG")"
exec > >(tee -a "$LOG") 2>&1
printf '%s migrations of %s: %s\n' "$(date -u +%FT%TZ)" "$IMAGE" "${MIGRATION[*]}"

# The host as the data layer wrote it, as at boot.
DATABASE_HOST=$(aws ssm get-parameter --region "$REGION" --name "$DATABASE_PARAMETER" \
	--query Parameter.Value --output text)
readonly DATABASE_HOST

secret=$(aws secretsmanager get-secret-value --region "$REGION" --secret-id "$SECRET_ARN" \
	--query SecretString --output text)
# Exported for psql and for `docker run --env NAME` (which copies the value, not the command line).
PGUSER=$(jq -r .username <<<"$secret")
PGPASSWORD=$(jq -r .password <<<"$secret")
unset secret
export PGUSER PGPASSWORD
export DATABASE_USER=$PGUSER DATABASE_PASSWORD=$PGPASSWORD

echo "granting the backend's role $APP_USER"
psql "host=$DATABASE_HOST port=$DATABASE_PORT dbname=$DATABASE_NAME sslmode=verify-full sslrootcert=$CA_BUNDLE" \
	--no-psqlrc --quiet -v app_user="$APP_USER" -v database="$DATABASE_NAME" <<'SQL'
{{.AppRoleSQL}}SQL

# The registry login of the boot expires after 12 hours.
aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY" >/dev/null
docker pull --quiet "$IMAGE"
echo "running ${MIGRATION[*]}"
# Docker's bridge network: the migrations need the database only, and cannot reach the
# instance's credentials.
docker run --rm --env-file "$ENV_FILE" \
	--env DATABASE_USER --env DATABASE_PASSWORD \
	--volume "$CA_BUNDLE:$CA_BUNDLE:ro" \
	--entrypoint "${MIGRATION[0]}" "$IMAGE" "${MIGRATION[@]:1}"
echo "migrations of $release done"
