"""The AWS calls each function makes, recorded on moto and kept in runtime_calls.json.

The IAM check (review/iam, TestEveryRecordedRuntimeCallIsAllowed) simulates each recorded call
against the function's own role, the stack's boundary and the resource policies. Regenerate
the record after changing a handler:

    RECORD_RUNTIME_CALLS=1 python3 -m unittest tests.test_runtime_calls

The test fails while the record differs from what the handlers do. It runs on the Python that
has moto (5.2) and current botocore; calls moto does not implement are answered by named fakes
(FAKES) and marked "fake" in the record.
"""

import contextlib
import io
import json
import os
import sys
import types
import unittest
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

from tests.fakes import FUNCTIONS_DIR, load_handler
from tests.recorder import Recorder, unique, write

import boto3
from moto import mock_aws
from moto.awslambda.models import LambdaBackend

RECORD = FUNCTIONS_DIR / "tests" / "runtime_calls.json"
REGION, ACCOUNT, PREFIX = "us-east-1", "123456789012", "canalco-prod"
NOW = datetime.now(timezone.utc)


def bucket(purpose):
    return f"{PREFIX}-{purpose}-{ACCOUNT}-{REGION}"


def context(request_id="req-1", millis=60000, step=0):
    """Lambda's context; with a step, each look at the clock spends that much of the time."""
    left = [millis + step]

    def remaining():
        left[0] -= step
        return left[0]

    return types.SimpleNamespace(aws_request_id=request_id, get_remaining_time_in_millis=remaining)


# AWS Backup's restore jobs and recovery points, which moto does not implement: what AWS
# Backup returns for a database restored by restore testing (AWS Backup API Reference).
PLAN = "canalco_prod_restore_test"
RESTORE_JOB = {
    "RestoreJobId": "job-1", "ResourceType": "RDS", "Status": "COMPLETED",
    "CreatedBy": {"RestoreTestingPlanArn": f"arn:aws:backup:{REGION}:{ACCOUNT}:restore-testing-plan:{PLAN}-8e0bd2f1"},
    "CreatedResourceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:awsbackup-restore-test-abc123",
    "RecoveryPointArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:awsbackup:job-1",
    "CreationDate": NOW - timedelta(minutes=30), "CompletionDate": NOW,
}
FAKES = {
    ("backup", "DescribeRestoreJob"): RESTORE_JOB,
    ("backup", "DescribeRecoveryPoint"): {"CreationDate": NOW - timedelta(hours=2)},
    ("backup", "PutRestoreValidationResult"): {},
    ("backup", "ListRestoreJobs"): {"RestoreJobs": []},
    ("backup", "GetRestoreTestingPlan"): {"RestoreTestingPlan": {"CreationTime": NOW - timedelta(days=10),
                                                                "RestoreTestingPlanName": PLAN}},
    # moto's SES v2 sends no templated email ("Template functionality not ready").
    ("sesv2", "SendEmail"): {"MessageId": "0100018f-example"},
}


# What every function of the stack gets (serverless/policies.go).
KEY = {"KMS_KEY_ARN": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab", "TIMEZONE": "America/Bogota"}
REPORTS_ENV = {
    "REPORTS_BUCKET": bucket("reportes"), "AUDIT_BUCKET": bucket("auditoria"), **KEY, "MAX_RECEIVE_COUNT": "5",
    "DOWNLOAD_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-report-links", "SENDER": "Canalco <no-reply@canalco.co>",
    "CONFIGURATION_SET": PREFIX, "TEMPLATE_PREFIX": PREFIX + "-", "ENVIRONMENT": "prod"}


# The master secret's value, in the shape the rotation function reads.
MASTER = {"engine": "postgres", "host": PREFIX + "-postgres.c0abcdefghij.us-east-1.rds.amazonaws.com", "port": 5432,
          "username": "canalco_admin", "password": "the-first-password-1", "dbname": "canalco"}


def scenarios():
    """(function, scenario, environment, setup(), event, context)."""

    def buckets(*purposes):
        s3 = boto3.client("s3", region_name=REGION)
        for purpose in purposes:
            s3.create_bucket(Bucket=bucket(purpose))
        return s3

    def old_objects():
        s3 = buckets("adjuntos", "auditoria")
        s3.put_object(Bucket=bucket("adjuntos"), Key="tmp/old.pdf", Body=b"x")
        s3.put_object(Bucket=bucket("auditoria"), Key="audit/year=2020/month=01/day=01/a.jsonl", Body=b"{}\n")

    def database(identifier):
        rds = boto3.client("rds", region_name=REGION)
        rds.create_db_instance(DBInstanceIdentifier=identifier, DBInstanceClass="db.t4g.micro", Engine="postgres",
                               MasterUsername="canalco", MasterUserPassword="not-used-here-1", AllocatedStorage=20)

    def rotation(step):
        """The master secret as RotateSecret leaves it before the step: an AWSPENDING version
        with no value yet for createSecret, with its new value for finishSecret ("How rotation
        works", Secrets Manager User Guide). The function runs only the step the event names."""
        def setup():
            sm = boto3.client("secretsmanager", region_name=REGION)
            secret = sm.create_secret(Name=PREFIX + "-postgres-master", SecretString=json.dumps(MASTER))["ARN"]
            role = boto3.client("iam", region_name=REGION).create_role(RoleName=PREFIX + "-rotation", AssumeRolePolicyDocument="{}")
            package = io.BytesIO()
            with zipfile.ZipFile(package, "w") as z:
                z.writestr("handler.py", "def handler(event, context):\n    pass\n")
            function = boto3.client("lambda", region_name=REGION).create_function(
                FunctionName=PREFIX + "-rotation", Runtime="python3.13", Role=role["Role"]["Arn"], Handler="handler.handler",
                Code={"ZipFile": package.getvalue()})["FunctionArn"]
            events = []

            def invoke(backend, function_name, qualifier, body, headers, response_headers):
                events.append(json.loads(body))
                raise _Stop  # the steps run below, one per scenario

            with mock.patch.object(LambdaBackend, "invoke", invoke), contextlib.suppress(_Stop):
                sm.rotate_secret(SecretId=secret, RotationLambdaARN=function, RotationRules={"AutomaticallyAfterDays": 30})
            token = events[0]["ClientRequestToken"]
            if step == "finishSecret":
                sm.put_secret_value(SecretId=secret, ClientRequestToken=token, VersionStages=["AWSPENDING"],
                                    SecretString=json.dumps({**MASTER, "password": "the-new-password-1"}))
            return {"SecretId": secret, "ClientRequestToken": token, "Step": step}
        return setup

    def identity():
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="canalco.co")

    audit_event = {"Records": [{"messageId": "m1", "body": json.dumps({
        "id": "e1", "occurred_at": "2024-07-15T12:00:00Z", "actor": "ana@canalco.co", "action": "requisition.approve",
        "entity": "requisition", "entity_id": "REQ-7", "details": {}})}]}
    notification = {"Records": [{"Sns": {"Message": json.dumps({
        "type": "requisition.created", "recipients": ["ana@canalco.co"], "data": {"requisition_id": "REQ-7"}})}}]}
    return [
        ("audit", "an audit event written", {"AUDIT_BUCKET": bucket("auditoria"), "AUDIT_PREFIX": "audit/", **KEY},
         lambda: buckets("auditoria"), audit_event, context()),
        ("cleanup", "expired temporary files and old audit days", {
            "TEMP_PREFIXES": json.dumps([bucket("adjuntos") + "/tmp/"]), "TEMP_MAX_AGE_HOURS": "0",
            "AUDIT_BUCKET": bucket("auditoria"), "AUDIT_PREFIX": "audit/", **KEY},
         old_objects, {"source": "canalco.schedule"}, context(millis=600000)),
        ("notifications", "an email through SES", {
            "SENDER": "Canalco <no-reply@canalco.co>", "CONFIGURATION_SET": PREFIX, "TEMPLATE_PREFIX": PREFIX + "-",
            "ENVIRONMENT": "prod", "APP_URL": "https://app.canalco.co"},
         identity, notification, context()),
        *[("reports", f"a requested {fmt} report, linked by email", REPORTS_ENV, lambda: buckets("reportes", "auditoria"),
           {"report": "requisitions", "from": "2024-05-01", "to": "2024-05-02", "requested_by": "ana@canalco.co", "format": fmt},
           context()) for fmt in ("csv", "xlsx", "pdf")],
        ("reports", "the weekly report, attached", REPORTS_ENV, lambda: buckets("reportes", "auditoria"),
         {"source": "canalco.schedule", "type": "report.scheduled", "report": "orders", "format": "xlsx", "days": 7,
          "recipients": ["ana@canalco.co"]},
         context()),
        ("reports", "a refused request, explained by email", REPORTS_ENV, lambda: buckets("reportes", "auditoria"),
         {"report": "requisitions", "from": "2024-05-02", "to": "2024-05-01", "requested_by": "ana@canalco.co", "format": "csv"},
         context()),
        *[("rotation", f"the master secret's {step}", {"CA_BUNDLE_URL": "https://truststore.example/bundle.pem"},
           rotation(step), None, context()) for step in ("createSecret", "finishSecret")],
        ("recovery", "the RPO and the last restore test", {
            "RDS_INSTANCE_ID": PREFIX + "-postgres", "RESTORE_TESTING_PLAN": PLAN},
         lambda: database(PREFIX + "-postgres"), {"source": "canalco.schedule"}, context()),
        ("restore-check", "a restored database validated", {
            "LIVE_DB_INSTANCE_IDS": PREFIX + "-postgres", "CA_BUNDLE_URL": "https://truststore.example/bundle.pem",
            "BACKUP_VAULT_NAME": PREFIX, "POLL_SECONDS": "0", "RESTORE_TESTING_PLAN": PLAN},
         lambda: database("awsbackup-restore-test-abc123"), {"detail": {"restoreJobId": "job-1"}}, context(step=30000)),
    ]


class _Stop(Exception):
    """Ends RotateSecret's invocation of the function: the scenario runs the step itself."""


class _NoDatabase(Exception):
    """Stands in for psycopg's errors: the copy is not reachable from here."""


def _without_database():
    """restore-check imports psycopg; what its calls to AWS are does not depend on it."""
    fake = types.ModuleType("psycopg")
    fake.OperationalError = fake.Error = _NoDatabase
    fake.sql = types.SimpleNamespace()

    def connect(**_):
        raise _NoDatabase("no database here")

    fake.connect = connect
    return mock.patch.dict(sys.modules, {"psycopg": fake})


def record():
    """Runs every scenario on moto and returns {function: [calls]}."""
    out = {}
    for function, scenario, env, setup, event, ctx in scenarios():
        with mock_aws(), mock.patch.dict(os.environ, {**env, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                                                      "AWS_SECRET_ACCESS_KEY": "testing"}, clear=False), _without_database():
            made = setup()
            if event is None:  # the event names what the setup made
                event = made
            handler = load_handler(function)
            if hasattr(handler, "_ca_file"):
                handler._ca_file = lambda url: os.devnull
            recorder = Recorder(FAKES)
            with recorder.active(REGION):
                # A scenario that raises records only part of what the function does: it fails.
                handler.handler(event, ctx)
            for call in recorder.calls:
                call["scenario"] = scenario
            out.setdefault(function, []).extend(recorder.calls)
    return {function: unique(calls) for function, calls in out.items()}


class RuntimeCallsTest(unittest.TestCase):
    def test_the_record_is_what_the_handlers_do(self):
        got = record()
        if os.environ.get("RECORD_RUNTIME_CALLS"):
            write(RECORD, got)
        want = json.loads(RECORD.read_text())
        self.assertEqual(want, got, "the handlers' calls changed: RECORD_RUNTIME_CALLS=1 python3 -m unittest tests.test_runtime_calls")
        for function, calls in got.items():
            self.assertTrue(calls, f"{function} made no AWS call")


if __name__ == "__main__":
    unittest.main()
