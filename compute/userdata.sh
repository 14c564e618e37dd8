#!/bin/bash
# Boots a Canalco backend instance (Amazon Linux 2023): Docker, the CloudWatch agent and the
# release named in the SSM parameter {{.ReleaseParameter}} on port {{.Port}}. Rendered by the
# compute layer (see docs/compute.md); cloud-init runs it once, as root, at first boot, and its
# output goes to /var/log/cloud-init-output.log, which the CloudWatch agent ships. The script names
# no release, so a release (scripts/deploy-backend.sh) never changes the launch template.
set -euo pipefail

readonly REGION={{q .Region}}
readonly ENVIRONMENT={{q .Environment}}
readonly REPOSITORY={{q .Repository}}
readonly REPOSITORY_NAME={{q .RepositoryName}}
readonly REGISTRY={{q .Registry}}
readonly RELEASE_PARAMETER={{q .ReleaseParameter}}
readonly NO_RELEASE={{q .NoRelease}}
readonly RELEASE_TAG_PREFIX={{q .ReleaseTagPrefix}}
readonly AGENT_PARAMETER={{q .AgentParameter}}
readonly LOG_GROUP={{q .LogGroup}}
readonly PORT={{.Port}}
readonly ENV_FILE=/etc/canalco/backend.env
readonly CA_BUNDLE={{q .CABundle}}
readonly PLACEHOLDER_ROOT=/var/lib/canalco/placeholder
readonly CREDENTIALS_DIR={{q .CredentialsDir}}
readonly CREDENTIALS_GROUP={{q .CredentialsGroup}}
readonly AWS_CONFIG={{q .AWSConfig}}
readonly DATABASE_PARAMETER={{q .DatabaseParameter}}
readonly DATABASE_READ_PARAMETER={{q .DatabaseReadParameter}}
readonly DATABASE_PORT={{.DatabasePort}}
readonly DATABASE_WAIT_MINUTES={{.DatabaseWaitMinutes}}
readonly DATABASE_POLL_SECONDS=15

# Messages go to stderr so that command substitutions capture only the commands' output.
log() {
	printf 'canalco-boot: %s\n' "$*" >&2
}

# retry <attempts> <command...>: AWS APIs, package mirrors and the registry may be briefly
# unreachable while the NAT route and the instance credentials settle.
retry() {
	local attempts=$1 n=1
	shift
	until "$@"; do
		if ((n >= attempts)); then
			log "giving up after $n attempts: $*"
			return 1
		fi
		sleep $((n * 5))
		n=$((n + 1))
	done
}

# IMDSv2 only (the launch template requires tokens, hop limit 1).
metadata() {
	local token
	token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
	curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

# backend_image <release>: the image to run for the release parameter's value, or nothing for the
# placeholder. The placeholder is only for a stack nothing was ever pushed to: once the repository
# holds an image, a release parameter still at the sentinel (a stack released before releases
# moved to the parameter) or holding anything but an image tag fails the boot. Nothing then
# answers the health check, the group replaces the instance and the unhealthy-host alarm fires,
# instead of a healthy placeholder standing in front of a missing API.
backend_image() {
	local release=$1 pushed
	if [[ "$release" == "$NO_RELEASE" ]]; then
		pushed=$(aws ecr list-images --region "$REGION" --repository-name "$REPOSITORY_NAME" \
			--query 'length(imageIds)' --output text) || return 1
		if [[ "$pushed" != "0" ]]; then
			log "$RELEASE_PARAMETER names no release but $REPOSITORY_NAME holds $pushed images: release one with scripts/deploy-backend.sh"
			return 1
		fi
		return 0
	fi
	if [[ ! "$release" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$ ]]; then
		log "release parameter $RELEASE_PARAMETER holds '$release', not an image tag"
		return 1
	fi
	printf '%s:%s%s\n' "$REPOSITORY" "$RELEASE_TAG_PREFIX" "$release"
}

# database_host <parameter>: the host the parameter names, once the database there accepts
# connections. The stack creates the instances beside the database, so a first boot (or one
# during a rebuild) comes before the data layer writes the parameter: it waits, up to
# DATABASE_WAIT_MINUTES, then fails, and the group replaces the instance.
database_host() {
	local deadline=$((SECONDS + DATABASE_WAIT_MINUTES * 60)) host
	while true; do
		host=$(aws ssm get-parameter --region "$REGION" --name "$1" --query Parameter.Value --output text 2>/dev/null) || host=""
		# The probe's own shell expands its arguments: the host is never parsed as code.
		# shellcheck disable=SC2016
		if [[ -n "$host" ]] && timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$DATABASE_PORT" 2>/dev/null; then
			printf '%s\n' "$host"
			return 0
		fi
		if ((SECONDS >= deadline)); then
			log "database not ready after $DATABASE_WAIT_MINUTES minutes ($1: '$host', port $DATABASE_PORT): giving up"
			return 1
		fi
		log "waiting for the database ($1: '${host:-not written yet}', port $DATABASE_PORT)"
		sleep "$DATABASE_POLL_SECONDS"
	done
}

INSTANCE_ID=$(retry 5 metadata instance-id)
readonly INSTANCE_ID
log "instance $INSTANCE_ID, environment $ENVIRONMENT"

log "installing docker and the CloudWatch agent"
retry 5 dnf install -y docker amazon-cloudwatch-agent jq postgresql15
systemctl enable --now docker

# The agent's configuration (memory, disk, log files) is an SSM parameter of the stack, so it
# changes without touching this script.
log "starting the CloudWatch agent with $AGENT_PARAMETER"
mkdir -p /var/log/canalco
retry 5 /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl \
	-a fetch-config -m ec2 -s -c "ssm:$AGENT_PARAMETER"

log "reading the database's hosts from $DATABASE_PARAMETER and $DATABASE_READ_PARAMETER"
DATABASE_HOST=$(database_host "$DATABASE_PARAMETER")
# Reports and heavy reads: the read replica, or the primary without one.
DATABASE_READ_HOST=$(database_host "$DATABASE_READ_PARAMETER")
readonly DATABASE_HOST DATABASE_READ_HOST

# The backend's environment, readable by root only. It holds no password: the backend signs in to
# the database as {{.AppUser}} with IAM authentication tokens it generates per connection, so
# nothing in it goes stale when RDS rotates the master secret.
log "writing $ENV_FILE"
umask 077
mkdir -p /etc/canalco
{
	printf 'ENVIRONMENT=%s\n' "$ENVIRONMENT"
	printf 'AWS_REGION=%s\n' "$REGION"
	printf 'AWS_DEFAULT_REGION=%s\n' "$REGION"
	printf 'PORT=%s\n' "$PORT"
	printf 'DATABASE_HOST=%s\n' "$DATABASE_HOST"
	printf 'DATABASE_READ_HOST=%s\n' "$DATABASE_READ_HOST"
	printf 'DATABASE_PORT=%s\n' "$DATABASE_PORT"
	printf 'DATABASE_NAME=%s\n' {{q .DatabaseName}}
	printf 'DATABASE_USER=%s\n' {{q .AppUser}}
	printf 'DATABASE_SSLMODE=%s\n' verify-full
	printf 'DATABASE_SSL_ROOT_CERT=%s\n' "$CA_BUNDLE"
{{- range .Variables}}
	printf '%s=%s\n' {{q .Name}} {{q .Value}}
{{- end}}
} >"$ENV_FILE"
chmod 600 "$ENV_FILE"
umask 022

# The certificate authorities of RDS, so the backend verifies the database's certificate
# (sslmode=verify-full); the container gets the file read-only at the same path.
log "fetching the RDS certificate bundle"
retry 5 curl -fsS -o "$CA_BUNDLE" https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
chmod 644 "$CA_BUNDLE"

# Runs the database migrations of a release before it takes traffic; the release script calls it
# through SSM Run Command on one instance (docs/compute.md).
cat >/usr/local/bin/canalco-run-migrations <<'MIGRATIONS'
{{.Migrations}}MIGRATIONS
chmod 700 /usr/local/bin/canalco-run-migrations

# The release is read now, not rendered into this script: `pulumi up` and a release stay apart.
release=$(retry 5 aws ssm get-parameter --region "$REGION" --name "$RELEASE_PARAMETER" \
	--query Parameter.Value --output text)
IMAGE=$(retry 3 backend_image "$release")
readonly IMAGE

if [[ -z "$IMAGE" ]]; then
	# No release was ever made (first deployment): answer the load balancer's health check so
	# the group and the first `pulumi up` converge. The first release replaces this instance.
	log "no backend release yet: serving the placeholder health page on $PORT"
	health_file="$PLACEHOLDER_ROOT/"{{q .HealthFile}}
	mkdir -p "$(dirname "$health_file")"
	printf 'canalco %s: no backend release yet\n' "$ENVIRONMENT" >"$health_file"
	cat >/etc/systemd/system/canalco-placeholder.service <<UNIT
[Unit]
Description=Canalco placeholder health page (no backend release yet)
After=network-online.target

[Service]
ExecStart=/usr/bin/python3 -m http.server $PORT --directory $PLACEHOLDER_ROOT
DynamicUser=yes
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
	systemctl daemon-reload
	systemctl enable --now canalco-placeholder.service
	exit 0
fi

log "pulling $IMAGE (release $release)"
ecr_login() {
	aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY"
}
retry 5 ecr_login
retry 5 docker pull "$IMAGE"

# The container's AWS identity is the application role, never the instance's: on Docker's bridge
# network, with a hop limit of 1, it cannot reach the metadata service. The host assumes the
# role now and every 15 minutes (and at every boot, before Docker starts the container again)
# and writes the credentials to a tmpfs directory the container reads through its supplementary
# group; the SDK's config names them as a credential_process, and botocore refreshes them
# before they expire.
log "handing the container the application role's credentials"
groupadd --system --force "$CREDENTIALS_GROUP"
cat >/usr/local/bin/canalco-app-credentials <<'CREDENTIALS'
{{.Credentials}}CREDENTIALS
chmod 700 /usr/local/bin/canalco-app-credentials
retry 5 /usr/local/bin/canalco-app-credentials "$INSTANCE_ID"
printf '[default]\nregion = %s\ncredential_process = cat %s/credentials.json\n' "$REGION" "$CREDENTIALS_DIR" >"$AWS_CONFIG"
chgrp "$CREDENTIALS_GROUP" "$AWS_CONFIG"
chmod 640 "$AWS_CONFIG"
cat >/etc/systemd/system/canalco-app-credentials.service <<UNIT
[Unit]
Description=Canalco backend: the application role's credentials for the container
Wants=network-online.target
After=network-online.target
Before=docker.service

[Service]
Type=oneshot
ExecStart=/usr/local/bin/canalco-app-credentials $INSTANCE_ID

[Install]
WantedBy=multi-user.target
UNIT
cat >/etc/systemd/system/canalco-app-credentials.timer <<'UNIT'
[Unit]
Description=Canalco backend: refresh the application role's credentials every 15 minutes

[Timer]
OnCalendar=*:0/15
AccuracySec=1min

[Install]
WantedBy=timers.target
UNIT
systemctl daemon-reload
systemctl enable canalco-app-credentials.service
systemctl enable --now canalco-app-credentials.timer
credentials_gid=$(getent group "$CREDENTIALS_GROUP" | cut -d: -f3)

# Off the host network: the load balancer's port is published to the container's. Logging never
# blocks the backend: a slow CloudWatch Logs only fills a buffer (the Docker daemon writes the
# logs with the instance's credentials).
log "starting the backend"
docker run --detach --name canalco-backend \
	--restart always --publish "$PORT:$PORT" \
	--env-file "$ENV_FILE" \
	--env AWS_CONFIG_FILE="$AWS_CONFIG" --env AWS_SDK_LOAD_CONFIG=1 --env AWS_EC2_METADATA_DISABLED=true \
	--group-add "$credentials_gid" \
	--volume "$CREDENTIALS_DIR:$CREDENTIALS_DIR:ro" \
	--volume "$AWS_CONFIG:$AWS_CONFIG:ro" \
	--volume "$CA_BUNDLE:$CA_BUNDLE:ro" \
	--log-driver awslogs \
	--log-opt mode=non-blocking --log-opt max-buffer-size=16m \
	--log-opt awslogs-region="$REGION" \
	--log-opt awslogs-group="$LOG_GROUP" \
	--log-opt awslogs-stream="$INSTANCE_ID/backend" \
	"$IMAGE"
log "backend $release started on port $PORT"
