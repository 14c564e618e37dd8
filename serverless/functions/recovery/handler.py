"""Publishes the database's recovery point lag, and the age of the last validated restore test.

Trigger: EventBridge Scheduler every 5 minutes with
``{"source": "canalco.schedule", "type": "recovery.metrics"}``, or a manual invoke.

1. RpoSeconds: now minus the LatestRestorableTime RDS reports for RDS_INSTANCE_ID
   (DescribeDBInstances): how much committed data a point-in-time restore would lose now.
   RDS publishes no metric of it. It is published whenever RDS reports the time, whatever the
   instance's status (storage-full, failed, inaccessible-encryption-credentials are when it
   matters most); only a stopped instance (dev sleeps at night) publishes nothing, having no
   recovery point moving forward on purpose.
2. RestoreTestAgeHours (only with RESTORE_TESTING_PLAN set): hours since the newest restore
   job of that plan that restored the database and was validated SUCCESSFUL (ListRestoreJobs
   over the last LOOKBACK_DAYS). With none in that time it counts from the plan's creation
   (GetRestoreTestingPlan): a new plan waits for its first monthly test without an alarm,
   and one whose tests stopped passing reaches the "restore missing" alarm (32 days).

Metrics go out as Embedded Metric Format lines in RECOVERY_NAMESPACE, dimension Environment.
"""

import os
import types
from datetime import datetime, timedelta, timezone

import telemetry  # shared/telemetry.py, packaged beside this handler

LOOKBACK_DAYS = 40


def _default_clients():
    import boto3

    return types.SimpleNamespace(rds=boto3.client("rds"), backup=boto3.client("backup"))


def _utcnow():
    return datetime.now(timezone.utc)


def handler(event, context, clients=None):
    clients = clients or _default_clients()
    now = _utcnow()
    namespace = os.environ.get("RECOVERY_NAMESPACE", "Canalco/Recovery")
    values, units = {}, {}

    instance_id = os.environ["RDS_INSTANCE_ID"]
    (instance,) = clients.rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
    status, latest = instance["DBInstanceStatus"], instance.get("LatestRestorableTime")
    if latest and status != "stopped":
        values["RpoSeconds"], units["RpoSeconds"] = round((now - latest).total_seconds()), "Seconds"
    else:
        telemetry.log("info", "no recovery point lag published", instance=instance_id, status=status, latest_restorable_time=latest)

    plan = os.environ.get("RESTORE_TESTING_PLAN", "")
    if plan:
        last = _last_validated_test(clients.backup, plan, now)
        since = last or clients.backup.get_restore_testing_plan(RestoreTestingPlanName=plan)["RestoreTestingPlan"]["CreationTime"]
        values["RestoreTestAgeHours"], units["RestoreTestAgeHours"] = round((now - since).total_seconds() / 3600, 1), "None"
        telemetry.log("info", "last validated restore test", plan=plan, completed=last)

    if values:
        telemetry.emit_values(namespace, values, units)
    return values


def _last_validated_test(backup, plan, now):
    """Completion time of the plan's newest database restore validated SUCCESSFUL, or None."""
    newest, token = None, None
    while True:
        kwargs = {"ByStatus": "COMPLETED", "ByCompleteAfter": now - timedelta(days=LOOKBACK_DAYS)}
        if token:
            kwargs["NextToken"] = token
        page = backup.list_restore_jobs(**kwargs)
        for job in page.get("RestoreJobs", []):
            created_by = job.get("CreatedBy", {}).get("RestoreTestingPlanArn", "")
            if (
                _plan_name_matches(created_by.rsplit(":", 1)[-1], plan)
                and job.get("ResourceType") == "RDS"
                and job.get("ValidationStatus") == "SUCCESSFUL"
                and (newest is None or job["CompletionDate"] > newest)
            ):
                newest = job["CompletionDate"]
        token = page.get("NextToken")
        if not token:
            return newest


def _plan_name_matches(arn_name, plan):
    # The ARN's last part is the plan's name, possibly followed by "-<id>".
    return arn_name == plan or arn_name.startswith(plan + "-")
