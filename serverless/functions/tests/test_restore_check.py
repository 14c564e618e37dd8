"""The restore check against a real PostgreSQL 15 with TLS (tests/postgres.py), with AWS Backup
and RDS faked (every call checked against the API's input shape, tests/fakes.py)."""

import os
import pathlib
import tempfile
import types
import unittest
from datetime import datetime, timedelta, timezone
from unittest import mock

from tests import postgres
from tests.fakes import FakeBackup, FakeContext, FakeRDS, load_handler, metrics, run

if not postgres.available():  # make test installs them (scripts/test-deps.sh)
    raise unittest.SkipTest("postgresql-15 and openssl are needed")

restore = load_handler("restore-check")

ACCOUNT, REGION = "123456789012", "us-east-1"
VAULT = "canalco-prod"
COPY = "awsbackup-restore-test-abc123"
LIVE = "canalco-prod-postgres"
RECOVERY_POINT = f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:awsbackup:job-1"
# The newest row the application wrote before the recovery point.
NEWEST = datetime(2026, 11, 1, 5, 55, tzinfo=timezone.utc)
CLUSTER = None


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


def restore_job(resource_type="RDS", created=COPY):
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{created}" if resource_type == "RDS" else f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-1"
    start = datetime(2026, 11, 3, 14, 5, tzinfo=timezone.utc)
    return {
        "RestoreJobId": "job-1", "ResourceType": resource_type, "Status": "COMPLETED",
        "CreationDate": start, "CompletionDate": start + timedelta(minutes=38, seconds=30),
        "CreatedResourceArn": arn, "RecoveryPointArn": RECOVERY_POINT,
    }


def copy_instance(**changes):
    instance = {
        "DBInstanceIdentifier": COPY, "DBInstanceStatus": "available", "MasterUsername": postgres.SUPERUSER,
        "DBName": "canalco", "Endpoint": {"Address": "localhost", "Port": CLUSTER.port},
        "PubliclyAccessible": False, "MultiAZ": False,
    }
    instance.update(changes)
    return instance


EVENT = {
    "source": "aws.backup", "detail-type": "Restore Job State Change",
    "detail": {"restoreJobId": "job-1", "status": "COMPLETED", "resourceType": "RDS",
               "restoreTestingPlanArn": f"arn:aws:backup:{REGION}:{ACCOUNT}:restore-testing-plan:canalco_prod_restore_test-1"},
}


class RestoreCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp())
        self.env = {
            "ENVIRONMENT": "prod", "RECOVERY_NAMESPACE": "Canalco/Recovery", "LIVE_DB_INSTANCE_IDS": f"{LIVE},{LIVE}-replica",
            "FRESHNESS_COLUMN": "public.heartbeat.at", "FRESHNESS_MAX_HOURS": "24",
            "CA_BUNDLE_URL": CLUSTER.ca_file.as_uri(), "BACKUP_VAULT_NAME": VAULT, "POLL_SECONDS": "0",
        }
        for patcher in (mock.patch.dict(os.environ, self.env, clear=True),
                        mock.patch.object(restore, "CA_FILE", str(self.tmp / "ca.pem"))):
            patcher.start()
            self.addCleanup(patcher.stop)
        self.recovery_point_at = NEWEST + timedelta(minutes=5)

    def invoke(self, job=None, instance=None, context=None):
        job = job or restore_job()
        self.backup = FakeBackup([job], {(VAULT, RECOVERY_POINT): self.recovery_point_at})
        instances = {COPY: instance or copy_instance(), LIVE: copy_instance(DBInstanceIdentifier=LIVE)}
        self.rds = FakeRDS(instances, on_modify=self.apply_password)
        return run(restore, EVENT, context or FakeContext(), types.SimpleNamespace(backup=self.backup, rds=self.rds))

    def apply_password(self, kwargs):
        # What RDS does with ModifyDBInstance(MasterUserPassword, ApplyImmediately): the real
        # server gets the new password.
        CLUSTER.psql(f"ALTER ROLE {postgres.SUPERUSER} PASSWORD '{kwargs['MasterUserPassword']}'")
        CLUSTER.password = kwargs["MasterUserPassword"]

    def reported(self):
        (call,) = self.backup.calls_to("PutRestoreValidationResult")
        return call

    def test_a_good_copy_is_reported_successful_with_its_duration(self):
        result, lines = self.invoke()
        call = self.reported()
        self.assertEqual("SUCCESSFUL", call["ValidationStatus"], call["ValidationStatusMessage"])
        self.assertIn("3 tables answer", call["ValidationStatusMessage"])
        self.assertIn("0:05:00 before it", call["ValidationStatusMessage"])
        m = metrics(lines)
        self.assertEqual((38.5, 1, "Canalco/Recovery", "prod"), (m["RestoreMinutes"], m["RestoreValidated"], m["_namespace"], m["_environment"]))
        # The password was reset on the copy only, applied at once, and never logged.
        (modify,) = self.rds.calls_to("ModifyDBInstance")
        self.assertEqual((COPY, True), (modify["DBInstanceIdentifier"], modify["ApplyImmediately"]))
        self.assertNotIn("ManageMasterUserPassword", modify)
        self.assertNotIn(modify["MasterUserPassword"], repr(lines) + repr(result))

    def test_the_freshness_check_compares_the_newest_row_with_the_recovery_point(self):
        cases = [
            ("within a day", timedelta(hours=23), "SUCCESSFUL", "23:00:00 before it"),
            ("stale copy", timedelta(hours=25), "FAILED", "1 day, 1:00:00 before the recovery point"),
            ("rows after the recovery point", -timedelta(minutes=10), "FAILED", "after the recovery point"),
        ]
        for name, lag, status, message in cases:
            with self.subTest(name):
                self.recovery_point_at = NEWEST + lag
                _, lines = self.invoke()
                call = self.reported()
                self.assertEqual(status, call["ValidationStatus"], call["ValidationStatusMessage"])
                self.assertIn(message, call["ValidationStatusMessage"])
                self.assertEqual(int(status == "SUCCESSFUL"), metrics(lines)["RestoreValidated"])

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
        self.invoke(instance=copy_instance(DBName="empty"))
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
        self.invoke(instance=copy_instance(Endpoint={"Address": "127.0.0.1", "Port": CLUSTER.port}))
        call = self.reported()
        self.assertEqual("FAILED", call["ValidationStatus"])
        self.assertIn("TLS", call["ValidationStatusMessage"])

    def test_it_waits_for_the_new_password_to_apply(self):
        states = iter([
            {"DBInstanceStatus": "available"},  # before the reset
            {"DBInstanceStatus": "resetting-master-credentials", "PendingModifiedValues": {"MasterUserPassword": "****"}},
            {"DBInstanceStatus": "available"},
        ])
        instance = copy_instance()
        rds_describe = FakeRDS.describe_db_instances

        def describe(fake, **kwargs):
            if kwargs["DBInstanceIdentifier"] == COPY:
                fake.instances[COPY] = {**instance, **next(states, {"DBInstanceStatus": "available"})}
            return rds_describe(fake, **kwargs)

        with mock.patch.object(FakeRDS, "describe_db_instances", describe):
            self.invoke()
        self.assertEqual("SUCCESSFUL", self.reported()["ValidationStatus"])
        self.assertEqual(3, len(self.rds.calls_to("DescribeDBInstances")))

    def test_it_gives_up_before_the_invocation_ends(self):
        instance = copy_instance(DBInstanceStatus="modifying")
        remaining = iter([120_000, 60_000, 20_000])
        self.invoke(instance=instance, context=FakeContext(remaining_ms=lambda: next(remaining)))
        call = self.reported()
        self.assertEqual("FAILED", call["ValidationStatus"])
        self.assertIn("could not connect", call["ValidationStatusMessage"])

    def test_an_isolation_breach_fails_without_touching_the_copy(self):
        for name, change, message in [("public", {"PubliclyAccessible": True}, "publicly accessible"),
                                      ("multi-az", {"MultiAZ": True}, "Multi-AZ")]:
            with self.subTest(name):
                self.invoke(instance=copy_instance(**change))
                call = self.reported()
                self.assertEqual("FAILED", call["ValidationStatus"])
                self.assertIn(message, call["ValidationStatusMessage"])
                self.assertEqual([], self.rds.calls_to("ModifyDBInstance"))

    def test_a_managed_master_password_is_released_before_the_reset(self):
        self.invoke(instance=copy_instance(MasterUserSecret={"SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1"}))
        (modify,) = self.rds.calls_to("ModifyDBInstance")
        self.assertIs(False, modify["ManageMasterUserPassword"])
        self.assertEqual("SUCCESSFUL", self.reported()["ValidationStatus"])

    def test_a_live_instance_is_never_modified(self):
        with self.assertRaisesRegex(RuntimeError, "live instance"):
            self.invoke(job=restore_job(created=LIVE))
        self.assertEqual([], self.rds.calls_to("ModifyDBInstance"))
        self.assertEqual([], self.backup.calls_to("PutRestoreValidationResult"))

    def test_a_volume_restore_is_only_timed(self):
        result, lines = self.invoke(job=restore_job("EBS"))
        self.assertEqual(38.5, result["minutes"])
        m = metrics(lines)
        self.assertEqual(38.5, m["RestoreMinutes"])
        self.assertNotIn("RestoreValidated", m)
        self.assertEqual([], self.backup.calls_to("PutRestoreValidationResult"))
        self.assertEqual([], self.rds.calls)


if __name__ == "__main__":
    unittest.main()
