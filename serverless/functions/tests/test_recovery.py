import os
import types
import unittest
from datetime import datetime, timedelta, timezone
from unittest import mock

from moto.rds.models import rds_backends

from tests.aws import MotoTestCase
from tests.fakes import FakeBackup, FakeContext, load_handler, metrics, run

recovery = load_handler("recovery")

# moto's RDS reports LatestRestorableTime as its own clock's now: the function's clock runs
# 272 s ahead, so the recovery point lags 272 s.
LAG = timedelta(seconds=272)
NOW = datetime.now(timezone.utc) + LAG
DB = "canalco-prod-postgres"
PLAN = "canalco_prod_restore_test"
PLAN_ARN = f"arn:aws:backup:us-east-1:123456789012:restore-testing-plan:{PLAN}-a1b2"
SCHEDULE = {"source": "canalco.schedule", "type": "recovery.metrics"}


class PlanBackup(FakeBackup):
    """The restore jobs, and the plan's creation time (GetRestoreTestingPlan, which moto lacks;
    the fake checks the call and its answer against botocore's model)."""

    def __init__(self, jobs=(), created_days_ago=10):
        super().__init__(jobs)
        self.created = NOW - timedelta(days=created_days_ago)

    def get_restore_testing_plan(self, **kwargs):
        self._record("GetRestoreTestingPlan", kwargs)
        return {"RestoreTestingPlan": {"CreationTime": self.created, "RestoreTestingPlanName": kwargs["RestoreTestingPlanName"]}}


def job(job_id, completed_days_ago, validation="SUCCESSFUL", plan_arn=PLAN_ARN, resource_type="RDS", status="COMPLETED"):
    done = NOW - timedelta(days=completed_days_ago)
    j = {"RestoreJobId": job_id, "Status": status, "ResourceType": resource_type,
         "CreationDate": done - timedelta(minutes=30), "CompletionDate": done, "ValidationStatus": validation}
    if plan_arn:
        j["CreatedBy"] = {"RestoreTestingPlanArn": plan_arn}
    return j


class RecoveryTest(MotoTestCase):
    def setUp(self):
        env = {"ENVIRONMENT": "prod", "RECOVERY_NAMESPACE": "Canalco/Recovery", "RDS_INSTANCE_ID": DB, "RESTORE_TESTING_PLAN": PLAN}
        for patcher in (mock.patch.dict(os.environ, env, clear=True), mock.patch.object(recovery, "_utcnow", lambda: datetime.now(timezone.utc) + LAG)):
            patcher.start()
            self.addCleanup(patcher.stop)
        super().setUp()
        self.rds = self.client("rds")
        self.rds.create_db_instance(DBInstanceIdentifier=DB, DBInstanceClass="db.t4g.medium", Engine="postgres",
                                    MasterUsername="canalco_admin", ManageMasterUserPassword=True, AllocatedStorage=50)
        self.aws.clear()

    def invoke(self, jobs=(), created_days_ago=10):
        self.backup = PlanBackup(jobs, created_days_ago)
        return run(recovery, SCHEDULE, FakeContext(), types.SimpleNamespace(rds=self.rds, backup=self.backup))

    def test_rpo_is_now_minus_the_latest_restorable_time(self):
        _, lines = self.invoke()
        m = metrics(lines)
        self.assertEqual((272, "Canalco/Recovery", "prod"), (m["RpoSeconds"], m["_namespace"], m["_environment"]))
        self.assertEqual([{"DBInstanceIdentifier": DB}], self.aws.to("DescribeDBInstances"))

    def test_a_stopped_database_publishes_no_rpo(self):
        # Dev's database sleeps at night: no reading (a sleeping stack has no RPO alarm).
        self.rds.stop_db_instance(DBInstanceIdentifier=DB)
        _, lines = self.invoke()
        self.assertNotIn("RpoSeconds", metrics(lines))

    def test_the_rpo_is_published_in_every_other_status(self):
        # The states in which the RPO is at risk are the ones the alarm must see. moto's RDS
        # cannot reach them through its API, so its instance is put in each one directly.
        instance = rds_backends["123456789012"]["us-east-1"].databases[DB]
        for status in ("storage-full", "failed", "inaccessible-encryption-credentials", "modifying", "starting"):
            with self.subTest(status), mock.patch.object(instance, "status", status):
                _, lines = self.invoke()
                self.assertEqual(272, metrics(lines)["RpoSeconds"])

    def test_restore_test_age_counts_only_validated_database_tests_of_the_plan(self):
        jobs = [
            job("old-ok", 20),
            job("newer-failed", 3, validation="FAILED"),
            job("newer-volume", 2, resource_type="EBS"),
            job("newer-manual", 1, plan_arn=None),
            job("other-plan", 1, plan_arn=PLAN_ARN.replace(PLAN, "canalco_staging_restore_test")),
            job("prefix-plan", 1, plan_arn=PLAN_ARN.replace(PLAN, PLAN + "x")),
        ]
        result, lines = self.invoke(jobs=jobs)
        self.assertEqual(480.0, metrics(lines)["RestoreTestAgeHours"])
        # Every page was read (two jobs a page in the fake), completed jobs of 40 days only.
        calls = self.backup.calls_to("ListRestoreJobs")
        self.assertEqual(3, len(calls))
        self.assertEqual({"COMPLETED"}, {c["ByStatus"] for c in calls})
        for call in calls:  # the function's clock has moved on since NOW by the test's few seconds
            self.assertLess(abs(call["ByCompleteAfter"] - (NOW - timedelta(days=40))), timedelta(minutes=1))

    def test_without_a_validated_test_the_age_counts_from_the_plan_creation(self):
        # A plan created 10 days ago waits for its first test below the 32-day alarm; one
        # created 50 days ago whose tests never passed is above it.
        for created_days_ago, want in ((10, 240.0), (50, 1200.0)):
            with self.subTest(created_days_ago):
                _, lines = self.invoke(jobs=[job("failed", 5, validation="FAILED")], created_days_ago=created_days_ago)
                self.assertEqual(want, metrics(lines)["RestoreTestAgeHours"])
                self.assertEqual([{"RestoreTestingPlanName": PLAN}], self.backup.calls_to("GetRestoreTestingPlan"))

    def test_without_restore_testing_only_the_rpo_is_published(self):
        with mock.patch.dict(os.environ, {"RESTORE_TESTING_PLAN": ""}):
            _, lines = self.invoke()
        self.assertNotIn("RestoreTestAgeHours", metrics(lines))
        self.assertEqual([], self.backup.calls)


if __name__ == "__main__":
    unittest.main()
