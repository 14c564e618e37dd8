"""The restore check, flow by flow, with the states AWS is in at each step.

- RDS is moto's (botocore 1.43's models, the Lambda runtime's): the restored copy is a moto
  instance whose endpoint is a real PostgreSQL 15 with TLS (tests/postgres.py), and whose status
  the test moves through the lifecycle RDS documents for a restored instance ("Viewing Amazon
  RDS DB instance status", RDS user guide: creating, backing-up, configuring-..., available).
  moto takes ModifyDBInstance in any status, so CopyLifecycle answers it with RDS's documented
  error, InvalidDBInstanceState ("The DB instance isn't in a valid state", RDS API Reference),
  outside the states that take it.
- AWS Backup's restore-job calls are missing from moto 5.2 (DescribeRestoreJob,
  DescribeRecoveryPoint, PutRestoreValidationResult): tests/fakes.py's FakeBackup answers them,
  and checks every call against botocore's model of the operation.

Runs with the other Lambda tests (`make test`), which install postgresql-15, openssl and psycopg
(scripts/test-deps.sh).
"""

import contextlib
import io
import json
import os
import pathlib
import tempfile
import unittest
from datetime import datetime, timedelta, timezone
from unittest import mock

import boto3
import botocore.awsrequest
from moto import mock_aws
from moto.rds.models import DBInstance, rds_backends

from tests import postgres
from tests.fakes import FakeBackup, load_handler

if not postgres.available():  # never skipped: make test installs them (scripts/test-deps.sh)
    raise ImportError("postgresql-15 and openssl are needed: run scripts/test-deps.sh")

restore = load_handler("restore-check")

ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's default account
VAULT = "canalco-prod"
COPY = "awsbackup-restore-test-abc123"
LIVE = "canalco-prod-postgres"
PLAN = "canalco_prod_restore_test"
PLAN_ARN = f"arn:aws:backup:{REGION}:{ACCOUNT}:restore-testing-plan:{PLAN}-8e0bd2f1"
RECOVERY_POINT = f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:awsbackup:job-1"
# The newest row the application wrote before the recovery point.
NEWEST = datetime(2026, 11, 1, 5, 55, tzinfo=timezone.utc)
CLUSTER = None

# "Restore Job State Change" as AWS Backup documents it ("Amazon EventBridge events for AWS
# Backup", example event): the detail names the job, its status and resource type, not the
# restore testing plan.
EVENT = {
    "version": "0", "id": "7b0c9f0e-2d9a-4a57-8e0c-3c1b5f6f8a11", "detail-type": "Restore Job State Change",
    "source": "aws.backup", "account": ACCOUNT, "time": "2026-11-03T14:43:30Z", "region": REGION,
    "resources": [], "detail": {"restoreJobId": "job-1", "backupSizeInBytes": "21474836480",
                                "creationDate": "2026-11-03T14:05:00.000Z", "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/canalco-prod-backup",
                                "percentDone": 100.0, "resourceType": "RDS", "status": "COMPLETED",
                                "createdResourceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{COPY}"},
}


def setUpModule():
    global CLUSTER
    CLUSTER = postgres.Cluster(password="initial-password-of-the-snapshot").start()
    CLUSTER.psql("CREATE DATABASE canalco")
    CLUSTER.psql("CREATE DATABASE empty")
    CLUSTER.psql(
        "CREATE SCHEMA app;"
        "CREATE TABLE app.orders (id serial PRIMARY KEY, created_at timestamptz NOT NULL);"
        "CREATE TABLE public.heartbeat (at timestamptz NOT NULL, at_local timestamp);"
        "CREATE TABLE public.empty_table (id int);"
        f"INSERT INTO app.orders (created_at) VALUES ('{NEWEST - timedelta(days=3)}'), ('{NEWEST - timedelta(hours=1)}');"
        f"INSERT INTO public.heartbeat (at, at_local) VALUES ('{NEWEST - timedelta(minutes=1)}', '2026-11-01 05:54'), ('{NEWEST}', '2026-11-01 05:55');",
        database="canalco",
    )


def tearDownModule():
    CLUSTER.stop()


def restore_job(resource_type="RDS", created=COPY, plan_arn=PLAN_ARN):
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{created}" if resource_type == "RDS" else f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-1"
    start = datetime(2026, 11, 3, 14, 5, tzinfo=timezone.utc)
    job = {
        "RestoreJobId": "job-1", "ResourceType": resource_type, "Status": "COMPLETED",
        "CreationDate": start, "CompletionDate": start + timedelta(minutes=38, seconds=30),
        "CreatedResourceArn": arn, "RecoveryPointArn": RECOVERY_POINT,
    }
    if plan_arn:  # a restore someone started by hand has no creator
        job["CreatedBy"] = {"RestoreTestingPlanArn": plan_arn}
    return job


class CopyLifecycle:
    """Moves the copy through RDS's statuses, one per DescribeDBInstances of it (the last one
    stays), refuses ModifyDBInstance with InvalidDBInstanceState outside the statuses that take
    it (and `refusals` more times in them, as when RDS starts a backup between the read and the
    call), and applies a taken password to the real server, as RDS does."""

    TAKES_MODIFY = ("available", "backing-up")

    def __init__(self, client, statuses=("available",), refusals=0):
        self.statuses, self.refusals, self.seen = list(statuses), refusals, []
        self.db = rds_backends[ACCOUNT][REGION].databases[COPY]
        self.db.status = self.statuses[0]
        self.request = {}
        events = client.meta.events
        events.register("before-parameter-build.rds.DescribeDBInstances", self._describe)
        events.register("before-parameter-build.rds.ModifyDBInstance", self._request)
        events.register("before-call.rds.ModifyDBInstance", self._modify)
        events.register("after-call.rds.ModifyDBInstance", self._applied)

    def _describe(self, params, **_):
        if params.get("DBInstanceIdentifier") == COPY:
            self.db.status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            self.seen.append(self.db.status)

    def _request(self, params, **_):
        self.request = dict(params)

    def _modify(self, **_):
        if self.request.get("DBInstanceIdentifier") != COPY:
            return None
        if self.db.status in self.TAKES_MODIFY and self.refusals == 0:
            return None
        self.refusals = max(0, self.refusals - 1)
        error = {"Error": {"Code": "InvalidDBInstanceState", "Message": f"Database instance is not in available state ({self.db.status})."},
                 "ResponseMetadata": {"HTTPStatusCode": 400}}
        return botocore.awsrequest.AWSResponse(None, 400, {}, None), error

    def _applied(self, http_response, **_):
        if http_response.status_code == 200 and "MasterUserPassword" in self.request:
            CLUSTER.psql(f"ALTER ROLE {postgres.SUPERUSER} PASSWORD '{self.request['MasterUserPassword']}'")
            CLUSTER.password = self.request["MasterUserPassword"]


class Context:
    """Lambda's context; by default 900 s that each look at the clock spends one second of, so
    a loop that never ends in AWS ends here too."""

    def __init__(self, remaining_ms=None):
        self.aws_request_id, self._left = "req-1", 901_000
        self._remaining = remaining_ms or self._countdown

    def _countdown(self):
        self._left -= 1000
        return self._left

    def get_remaining_time_in_millis(self):
        return self._remaining()


def metrics(output):
    """The Embedded Metric Format line's values, with its namespace and environment."""
    for line in output.splitlines():
        record = json.loads(line)
        if "_aws" in record:
            values = {m["Name"]: record[m["Name"]] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
            return {**values, "_namespace": record["_aws"]["CloudWatchMetrics"][0]["Namespace"], "_environment": record["Environment"]}
    return {}


class RestoreCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp())
        env = {
            "ENVIRONMENT": "prod", "RECOVERY_NAMESPACE": "Canalco/Recovery", "RESTORE_TESTING_PLAN": PLAN,
            "LIVE_DB_INSTANCE_IDS": f"{LIVE},{LIVE}-replica", "FRESHNESS_COLUMN": "public.heartbeat.at", "FRESHNESS_MAX_HOURS": "24",
            "CA_BUNDLE_URL": CLUSTER.ca_file.as_uri(), "BACKUP_VAULT_NAME": VAULT, "POLL_SECONDS": "0",
            "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        }
        self.endpoint = "localhost"  # the real server's certificate names localhost
        for patcher in (mock.patch.dict(os.environ, env, clear=True),
                        mock.patch.object(restore, "CA_FILE", str(self.tmp / "ca.pem")),
                        # moto names the endpoint after the instance; here it is this machine.
                        mock.patch.object(DBInstance, "address", property(lambda db: self.endpoint if db.db_instance_identifier == COPY else f"{db.db_instance_identifier}.rds.invalid"))):
            patcher.start()
            self.addCleanup(patcher.stop)
        self.aws = mock_aws()
        self.aws.start()
        self.addCleanup(self.aws.stop)
        self.recovery_point_at = NEWEST + timedelta(minutes=5)

    def create(self, identifier=COPY, dbname="canalco", **options):
        self.rds.create_db_instance(DBInstanceIdentifier=identifier, Engine="postgres", DBInstanceClass="db.t4g.micro",
                                    MasterUsername=postgres.SUPERUSER, DBName=dbname, Port=CLUSTER.port,
                                    AllocatedStorage=20, **options)

    def invoke(self, job=None, statuses=("available",), refusals=0, context=None, dbname="canalco", **options):
        """One restore test from an empty account: the copy (and the live database) as AWS
        Backup left them, the server's password as at the recovery point."""
        self.aws.stop()
        self.aws.start()
        CLUSTER.psql(f"ALTER ROLE {postgres.SUPERUSER} PASSWORD 'initial-password-of-the-snapshot'")
        CLUSTER.password = "initial-password-of-the-snapshot"
        self.rds = boto3.client("rds", region_name=REGION)
        copy = {"MasterUserPassword": "initial-password-of-the-snapshot"} | options
        self.create(dbname=dbname, **{k: v for k, v in copy.items() if v is not None})
        self.create(LIVE, MasterUserPassword="live-password-nobody-knows", MultiAZ=True)
        self.lifecycle = CopyLifecycle(self.rds, statuses, refusals)
        self.backup = FakeBackup([job or restore_job()], {(VAULT, RECOVERY_POINT): self.recovery_point_at})
        self.modified = []
        self.rds.meta.events.register("provide-client-params.rds.ModifyDBInstance", lambda params, **_: self.modified.append(dict(params)))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = restore.handler(EVENT, context or Context(), clients=mock.Mock(backup=self.backup, rds=self.rds))
        return result, out.getvalue()

    def reported(self):
        (call,) = self.backup.calls_to("PutRestoreValidationResult")
        return call

    def copy(self):
        (instance,) = self.rds.describe_db_instances(DBInstanceIdentifier=COPY)["DBInstances"]
        return instance

    def test_a_good_copy_is_reported_successful_with_its_duration(self):
        result, out = self.invoke()
        call = self.reported()
        self.assertEqual("SUCCESSFUL", call["ValidationStatus"], call["ValidationStatusMessage"])
        self.assertIn("3 tables answer", call["ValidationStatusMessage"])
        self.assertIn("0:05:00 before it", call["ValidationStatusMessage"])
        m = metrics(out)
        self.assertEqual((38.5, 1, "Canalco/Recovery", "prod"), (m["RestoreMinutes"], m["RestoreValidated"], m["_namespace"], m["_environment"]))
        # The password was reset on the copy only, applied at once, and never logged.
        (modify,) = self.modified
        self.assertEqual((COPY, True), (modify["DBInstanceIdentifier"], modify["ApplyImmediately"]))
        self.assertNotIn("ManageMasterUserPassword", modify)
        self.assertNotIn(modify["MasterUserPassword"], out + repr(result))

    def test_it_waits_for_the_copy_before_resetting_its_password(self):
        # The job completes while RDS still prepares the copy; the reset waits until the copy
        # takes it (backing-up), the connection until it is available.
        statuses = ("creating", "configuring-enhanced-monitoring", "backing-up", "backing-up", "available")
        self.invoke(statuses=statuses)
        self.assertEqual("SUCCESSFUL", self.reported()["ValidationStatus"], self.reported()["ValidationStatusMessage"])
        self.assertEqual(["creating", "configuring-enhanced-monitoring", "backing-up"], self.lifecycle.seen[:3])
        self.assertEqual(1, len(self.modified), "one reset, once the copy took it")

    def test_invalid_state_answers_are_retried(self):
        # RDS started a backup between the read and the call: InvalidDBInstanceState, twice.
        self.invoke(statuses=("backing-up", "available"), refusals=2)
        self.assertEqual(3, len(self.modified))
        self.assertEqual("SUCCESSFUL", self.reported()["ValidationStatus"], self.reported()["ValidationStatusMessage"])

    def test_a_copy_that_never_gets_ready_fails_before_the_invocation_ends(self):
        for statuses, refusals, message in [(("creating",), 0, "still creating"),
                                            (("available",), 100, "never took the password reset"),
                                            (("backing-up",), 0, "could not connect")]:
            with self.subTest(statuses[0]):
                remaining = iter([120_000, 60_000, 45_000, 20_000])
                self.invoke(statuses=statuses, refusals=refusals, context=Context(lambda: next(remaining, 0)))
                call = self.reported()
                self.assertEqual("FAILED", call["ValidationStatus"])
                self.assertIn(message, call["ValidationStatusMessage"])

    def test_only_the_plans_restore_jobs_are_validated(self):
        # A restore someone started by hand (no creator: a disaster recovery, say) and another
        # plan's test are left alone: no password reset, no result, no metric.
        for name, plan_arn in [("by hand", None), ("another plan", PLAN_ARN.replace(PLAN, "canalco_staging_restore_test")),
                               ("a plan whose name starts alike", PLAN_ARN.replace(PLAN, PLAN + "_v2"))]:
            with self.subTest(name):
                result, out = self.invoke(job=restore_job(plan_arn=plan_arn))
                self.assertIn("ignored", result)
                self.assertEqual([], self.modified)
                self.assertEqual([], self.backup.calls_to("PutRestoreValidationResult"))
                self.assertEqual({}, metrics(out))
                self.assertEqual("initial-password-of-the-snapshot", CLUSTER.password)

    def test_the_freshness_check_compares_the_newest_row_with_the_recovery_point(self):
        cases = [
            ("within a day", timedelta(hours=23), "SUCCESSFUL", "23:00:00 before it"),
            ("stale copy", timedelta(hours=25), "FAILED", "1 day, 1:00:00 before the recovery point"),
            ("rows after the recovery point", -timedelta(minutes=10), "FAILED", "after the recovery point"),
        ]
        for name, lag, status, message in cases:
            with self.subTest(name):
                self.recovery_point_at = NEWEST + lag
                _, out = self.invoke()
                call = self.reported()
                self.assertEqual(status, call["ValidationStatus"], call["ValidationStatusMessage"])
                self.assertIn(message, call["ValidationStatusMessage"])
                self.assertEqual(int(status == "SUCCESSFUL"), metrics(out)["RestoreValidated"])

    def test_bad_freshness_columns_fail(self):
        cases = [
            ("missing table", "public.nothing.at", "does not answer"),
            ("empty table", "public.empty_table.id", "has no rows"),
            ("timestamp without time zone", "public.heartbeat.at_local", "use timestamptz"),
        ]
        for name, column, message in cases:
            with self.subTest(name), mock.patch.dict(os.environ, {"FRESHNESS_COLUMN": column}):
                self.invoke()
                call = self.reported()
                self.assertEqual("FAILED", call["ValidationStatus"])
                self.assertIn(message, call["ValidationStatusMessage"])

    def test_without_a_freshness_column_only_the_tables_are_checked(self):
        with mock.patch.dict(os.environ, {"FRESHNESS_COLUMN": ""}):
            self.invoke()
        call = self.reported()
        self.assertEqual("SUCCESSFUL", call["ValidationStatus"])
        self.assertIn("freshness not checked", call["ValidationStatusMessage"])

    def test_an_empty_copy_fails(self):
        self.invoke(dbname="empty")
        call = self.reported()
        self.assertEqual("FAILED", call["ValidationStatus"])
        self.assertIn("no tables", call["ValidationStatusMessage"])

    def test_tls_is_verified_against_the_ca_bundle(self):
        # A server certificate from another CA than the bundle's: verify-full refuses it.
        with mock.patch.dict(os.environ, {"CA_BUNDLE_URL": CLUSTER.other_ca_file.as_uri()}):
            self.invoke()
        call = self.reported()
        self.assertEqual("FAILED", call["ValidationStatus"])
        self.assertIn("TLS", call["ValidationStatusMessage"])

    def test_the_host_name_is_verified(self):
        # 127.0.0.1 is not the certificate's name (localhost): verify-full refuses it.
        self.endpoint = "127.0.0.1"
        self.invoke()
        call = self.reported()
        self.assertEqual("FAILED", call["ValidationStatus"])
        self.assertIn("TLS", call["ValidationStatusMessage"])

    def test_an_isolation_breach_fails_without_touching_the_copy(self):
        for name, option, message in [("public", {"PubliclyAccessible": True}, "publicly accessible"),
                                      ("multi-az", {"MultiAZ": True}, "Multi-AZ")]:
            with self.subTest(name):
                self.invoke(**option)
                call = self.reported()
                self.assertEqual("FAILED", call["ValidationStatus"])
                self.assertIn(message, call["ValidationStatusMessage"])
                self.assertEqual([], self.modified)

    def test_a_managed_master_password_is_released_before_the_reset(self):
        self.invoke(ManageMasterUserPassword=True, MasterUserPassword=None)
        (modify,) = self.modified
        self.assertIs(False, modify["ManageMasterUserPassword"])
        self.assertEqual("SUCCESSFUL", self.reported()["ValidationStatus"])
        self.assertNotIn("MasterUserSecret", self.copy(), "RDS no longer manages the copy's password")

    def test_a_live_instance_is_never_modified(self):
        with self.assertRaisesRegex(RuntimeError, "live instance"):
            self.invoke(job=restore_job(created=LIVE))
        self.assertEqual([], self.modified)
        self.assertEqual([], self.backup.calls_to("PutRestoreValidationResult"))

    def test_a_volume_restore_is_only_timed(self):
        result, out = self.invoke(job=restore_job("EBS"))
        self.assertEqual(38.5, result["minutes"])
        m = metrics(out)
        self.assertEqual(38.5, m["RestoreMinutes"])
        self.assertNotIn("RestoreValidated", m)
        self.assertEqual([], self.backup.calls_to("PutRestoreValidationResult"))
        self.assertEqual([], self.modified)
        self.assertEqual([], self.lifecycle.seen, "the copy is not even read")


if __name__ == "__main__":
    unittest.main()
