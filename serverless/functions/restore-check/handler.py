"""Validates the monthly restore test's copy of the database and reports the result to AWS Backup.

Trigger: an EventBridge rule on ``aws.backup`` "Restore Job State Change" events with status
COMPLETED ("Restore testing validation", AWS Backup developer guide). The event need not name the
restore testing plan, so the rule takes every completed restore job of the account.

1. DescribeRestoreJob gives the job's creator: a job that RESTORE_TESTING_PLAN did not create
   (CreatedBy.RestoreTestingPlanArn; a person's restore has none) is left alone, untouched and
   unreported. For the plan's jobs it gives the restored resource and the job's times:
   RestoreMinutes (creation to completion) is published for every job, database or volume. A
   volume is only timed.
2. The restored copy (CreatedResourceArn) must not be a live instance (LIVE_DB_INSTANCE_IDS:
   never touched), and must be single-AZ and not publicly accessible.
3. Credentials: the copy keeps the master user with the password it had at the recovery point,
   while the live master secret is RDS-managed and rotates, so no stored secret is known to
   match. The copy's master password is reset to a random one that exists only in this
   invocation (ModifyDBInstance, applied at once); the copy is deleted with the test. The job
   completes while RDS still prepares the copy (creating, then configuring or backing-up): the
   reset waits until the copy is available or backing-up, and is retried while RDS answers
   InvalidDBInstanceState.
4. The connection is TLS with sslmode=verify-full against the region's RDS CA bundle
   (CA_BUNDLE_URL, downloaded over verified HTTPS at cold start).
5. Checks: every user table answers a SELECT; with FRESHNESS_COLUMN (schema.table.column) its
   newest value is at most FRESHNESS_MAX_HOURS older than the recovery point and not newer
   than it (plus clock slack). No table at all fails: an empty copy proves nothing.
6. PutRestoreValidationResult: SUCCESSFUL or FAILED with a message; RestoreValidated 1 or 0.

AWS errors raise (Lambda retries the event); the data or the copy failing a check is FAILED,
and so is a copy that never becomes ready before the invocation runs out of time.
"""

import dataclasses
import os
import secrets
import time
import types
import urllib.request
from datetime import timedelta

import botocore.exceptions
import psycopg  # from the function's layer (requirements.txt)
from psycopg import sql

import telemetry  # shared/telemetry.py, packaged beside this handler

CA_FILE = "/tmp/rds-ca-bundle.pem"
# The copy's clock and the recovery point's may differ slightly.
CLOCK_SLACK = timedelta(minutes=5)
CONNECT_TIMEOUT_SECONDS = 10
# Time kept in hand at the end of the invocation to report the result.
REPORT_MARGIN_MS = 30_000
MESSAGE_MAX = 1000
# The copy's states in which RDS takes the password reset (ModifyDBInstance); before them it is
# still being created or configured.
MODIFIABLE = ("available", "backing-up")


class ValidationFailed(Exception):
    """The restored copy failed a check: reported as FAILED."""


@dataclasses.dataclass(frozen=True)
class Settings:
    namespace: str
    plan: str
    live_ids: frozenset
    freshness_column: str
    freshness_max: timedelta
    ca_bundle_url: str
    vault_name: str
    poll_seconds: float

    @classmethod
    def from_env(cls):
        return cls(
            namespace=os.environ.get("RECOVERY_NAMESPACE", "Canalco/Recovery"),
            plan=os.environ["RESTORE_TESTING_PLAN"],
            live_ids=frozenset(i for i in os.environ.get("LIVE_DB_INSTANCE_IDS", "").split(",") if i),
            freshness_column=os.environ.get("FRESHNESS_COLUMN", ""),
            freshness_max=timedelta(hours=float(os.environ.get("FRESHNESS_MAX_HOURS", "24"))),
            ca_bundle_url=os.environ["CA_BUNDLE_URL"],
            vault_name=os.environ["BACKUP_VAULT_NAME"],
            poll_seconds=float(os.environ.get("POLL_SECONDS", "15")),
        )


def _default_clients():
    import boto3

    return types.SimpleNamespace(backup=boto3.client("backup"), rds=boto3.client("rds"))


def handler(event, context, clients=None):
    clients = clients or _default_clients()
    settings = Settings.from_env()
    job_id = event["detail"]["restoreJobId"]
    job = clients.backup.describe_restore_job(RestoreJobId=job_id)
    creator = job.get("CreatedBy", {}).get("RestoreTestingPlanArn", "")
    if not plan_created(creator, settings.plan):
        telemetry.log("info", "not a restore test of this stack: ignored", restoreJobId=job_id, createdBy=creator or None)
        return {"restoreJobId": job_id, "ignored": f"not created by the restore testing plan {settings.plan}"}
    minutes = round((job["CompletionDate"] - job["CreationDate"]).total_seconds() / 60, 1)
    values, units = {"RestoreMinutes": minutes}, {"RestoreMinutes": "None", "RestoreValidated": "None"}
    result = {"restoreJobId": job_id, "resourceType": job["ResourceType"], "minutes": minutes}
    if job["ResourceType"] != "RDS":
        # A detached volume has nothing to query: its restore is the test.
        telemetry.emit_values(settings.namespace, values, units)
        telemetry.log("info", "restore timed", **result)
        return result

    try:
        message = _validate(clients, settings, job, context)
        status = "SUCCESSFUL"
    except ValidationFailed as e:
        status, message = "FAILED", str(e)
    clients.backup.put_restore_validation_result(
        RestoreJobId=job_id, ValidationStatus=status, ValidationStatusMessage=message[:MESSAGE_MAX]
    )
    values["RestoreValidated"] = 1 if status == "SUCCESSFUL" else 0
    telemetry.emit_values(settings.namespace, values, units)
    result.update(status=status, detail=message)
    telemetry.log("info" if status == "SUCCESSFUL" else "error", "restore validated", **result)
    return result


def plan_created(creator_arn, plan):
    """The restore testing plan ARN's last part is the plan's name followed by "-<id>"."""
    name = creator_arn.rsplit(":", 1)[-1]
    return bool(plan) and (name == plan or name.startswith(plan + "-"))


def _validate(clients, settings, job, context):
    arn = job["CreatedResourceArn"]
    instance_id = arn.split(":db:", 1)[1]
    if instance_id in settings.live_ids:
        # Never reset the password of a live database, whatever the event says.
        raise RuntimeError(f"restore job {job['RestoreJobId']} names the live instance {instance_id}")
    instance = _wait_for(clients.rds, settings, instance_id, context, MODIFIABLE)
    if instance.get("PubliclyAccessible"):
        raise ValidationFailed(f"{instance_id} is publicly accessible: the restore test must stay isolated")
    if instance.get("MultiAZ"):
        raise ValidationFailed(f"{instance_id} is Multi-AZ: the restore test's copy must be single-AZ")

    password = secrets.token_urlsafe(32)  # letters, digits, - and _: all allowed by RDS
    modify = {"DBInstanceIdentifier": instance_id, "MasterUserPassword": password, "ApplyImmediately": True}
    if instance.get("MasterUserSecret"):
        modify["ManageMasterUserPassword"] = False  # RDS takes no password while it manages one
    _reset_password(clients.rds, settings, modify, context)

    recovery_point = clients.backup.describe_recovery_point(
        BackupVaultName=settings.vault_name, RecoveryPointArn=job["RecoveryPointArn"]
    )["CreationDate"]
    with _connect(clients.rds, settings, instance_id, password, context) as conn:
        tables = _check_tables(conn)
        freshness = _check_freshness(conn, settings, recovery_point) if settings.freshness_column else "freshness not checked (no freshness column set)"
    return f"{tables} tables answer; {freshness}; recovery point {recovery_point.isoformat()}"


def _instance(rds, instance_id):
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
    return instance


def _wait_for(rds, settings, instance_id, context, statuses):
    """The copy once its status is one of statuses; FAILED if it never gets there in time."""
    while True:
        instance = _instance(rds, instance_id)
        if instance["DBInstanceStatus"] in statuses:
            return instance
        if context.get_remaining_time_in_millis() <= REPORT_MARGIN_MS:
            raise ValidationFailed(f"{instance_id} is still {instance['DBInstanceStatus']}: it never became {' or '.join(statuses)}")
        time.sleep(settings.poll_seconds)


def _reset_password(rds, settings, modify, context):
    """ModifyDBInstance, again while RDS answers InvalidDBInstanceState (a state change between
    our read and the call); FAILED if it never takes it in time."""
    while True:
        try:
            rds.modify_db_instance(**modify)
            return
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "InvalidDBInstanceState":
                raise
            if context.get_remaining_time_in_millis() <= REPORT_MARGIN_MS:
                raise ValidationFailed(f"{modify['DBInstanceIdentifier']} never took the password reset: {e}") from e
        time.sleep(settings.poll_seconds)


def _ca_file(url):
    """The RDS CA bundle, downloaded once per container over verified HTTPS."""
    if not os.path.exists(CA_FILE):
        with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_SECONDS) as response:
            data = response.read()
        with open(CA_FILE + ".part", "wb") as f:
            f.write(data)
        os.replace(CA_FILE + ".part", CA_FILE)
    return CA_FILE


def _connect(rds, settings, instance_id, password, context):
    """Waits for the new password to apply, then connects with verify-full; FAILED if the copy
    never accepts the connection before the invocation runs out of time."""
    ca = _ca_file(settings.ca_bundle_url)
    last_error = "the copy never became available"
    while context.get_remaining_time_in_millis() > REPORT_MARGIN_MS:
        instance = _instance(rds, instance_id)
        pending = instance.get("PendingModifiedValues", {})
        if instance["DBInstanceStatus"] == "available" and "MasterUserPassword" not in pending:
            try:
                return psycopg.connect(
                    host=instance["Endpoint"]["Address"], port=instance["Endpoint"]["Port"],
                    dbname=instance.get("DBName") or "postgres", user=instance["MasterUsername"], password=password,
                    sslmode="verify-full", sslrootcert=ca, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    application_name="canalco-restore-check",
                )
            except psycopg.OperationalError as e:
                last_error = str(e).strip()
                if "certificate" in last_error or "SSL" in last_error:
                    raise ValidationFailed(f"TLS to {instance_id} failed: {last_error}") from e
        time.sleep(settings.poll_seconds)
    raise ValidationFailed(f"could not connect to {instance_id}: {last_error}")


def _check_tables(conn):
    """Every user table answers a SELECT; returns how many there are."""
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        " ORDER BY 1, 2"
    ).fetchall()
    if not tables:
        raise ValidationFailed("the restored database has no tables")
    for schema, table in tables:
        try:
            conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(schema, table))).fetchall()
        except psycopg.Error as e:
            raise ValidationFailed(f"table {schema}.{table} does not answer: {str(e).strip()}") from e
    return len(tables)


def _check_freshness(conn, settings, recovery_point):
    """The newest value of the freshness column is close to the recovery point."""
    schema, table, column = settings.freshness_column.split(".")
    query = sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), sql.Identifier(schema, table))
    try:
        (newest,) = conn.execute(query).fetchone()
    except psycopg.Error as e:
        raise ValidationFailed(f"freshness column {settings.freshness_column} does not answer: {str(e).strip()}") from e
    if newest is None:
        raise ValidationFailed(f"{settings.freshness_column} has no rows")
    if newest.tzinfo is None:
        raise ValidationFailed(f"{settings.freshness_column} is a timestamp without time zone: use timestamptz")
    lag = recovery_point - newest
    if lag > settings.freshness_max:
        raise ValidationFailed(f"newest {settings.freshness_column} is {newest.isoformat()}, {lag} before the recovery point (at most {settings.freshness_max})")
    if lag < -CLOCK_SLACK:
        raise ValidationFailed(f"newest {settings.freshness_column} is {newest.isoformat()}, after the recovery point: the copy is not from that recovery point")
    return f"newest {settings.freshness_column} {newest.isoformat()} is {lag} before it"
