"""The audit trail end to end on moto: SQS delivers an event twice in two batches, the audit
function stores both batches, the night's clean-up folds the Bogotá day into one object with the
event once, and the audit report reads that day with one GET."""

import gzip
import json
import os
import types
from datetime import datetime, timezone
from unittest import mock

import boto3

from tests.aws import MotoTestCase
from tests.fakes import FakeContext, FakeSESv2, load_handler, run

audit = load_handler("audit")
cleanup = load_handler("cleanup")
reports = load_handler("reports")

AUDIT = "canalco-dev-auditoria-123456789012-us-east-1"
REPORTS = "canalco-dev-reportes-123456789012-us-east-1"
ENV = {
    "AUDIT_BUCKET": AUDIT, "AUDIT_PREFIX": "audit/", "REPORTS_BUCKET": REPORTS, "TIMEZONE": "America/Bogota",
    "DOWNLOAD_ROLE_ARN": "arn:aws:iam::123456789012:role/canalco-dev-report-links", "SENDER": "no-reply@canalco.example",
    "ENVIRONMENT": "dev",
}
# 2024-07-16 03:00 in Bogotá: the night after the 15th.
NIGHT = datetime(2024, 7, 16, 8, 0, tzinfo=timezone.utc)


class AuditFlowTest(MotoTestCase):
    def setUp(self):
        for patcher in (mock.patch.dict(os.environ, ENV, clear=True), mock.patch.object(cleanup, "_utcnow", lambda: NIGHT),
                        mock.patch.object(audit, "_utcnow", lambda: NIGHT)):
            patcher.start()
            self.addCleanup(patcher.stop)
        super().setUp()
        self.s3 = self.client("s3")
        for bucket in (AUDIT, REPORTS):
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
        self.sqs = self.client("sqs")
        self.queue = self.sqs.create_queue(QueueName="canalco-dev-audit", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]

    def deliver(self, *bodies):
        """Send the events, then run the audit function on what one receive returns."""
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.queue, MessageBody=json.dumps(body))
        messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)["Messages"]
        records = [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]
        result, _ = run(audit, {"Records": records}, FakeContext(), types.SimpleNamespace(s3=self.s3))
        self.assertEqual(result, {"batchItemFailures": []})
        for m in messages:
            self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])

    def test_an_event_delivered_twice_is_reported_once_from_its_bogota_day(self):
        late = {"id": "e2", "occurred_at": "2024-07-16T04:30:00Z", "action": "order.confirm"}  # 23:30 on the 15th in Bogotá
        self.deliver({"id": "e1", "occurred_at": "2024-07-15T09:00:00-05:00", "action": "requisition.approve"}, late)
        self.deliver(late)  # SQS delivered it again, in another batch

        live = self.s3.list_objects_v2(Bucket=AUDIT, Prefix="audit/year=2024/month=07/day=15/")["KeyCount"]
        self.assertEqual(live, 2)
        summary, _ = run(cleanup, {"source": "canalco.schedule", "type": "cleanup.daily"}, FakeContext(),
                         types.SimpleNamespace(s3=self.s3))
        self.assertEqual((summary["audit_days"], summary["audit_folded"]), (1, 2))
        day = self.s3.get_object(Bucket=AUDIT, Key="audit/archive/year=2024/month=07/day=15/events.jsonl.gz")["Body"].read()
        self.assertEqual([json.loads(line)["id"] for line in gzip.decompress(day).splitlines()], ["e1", "e2"])

        ses = self.client("sesv2")
        ses.create_email_identity(EmailIdentity="canalco.example")
        self.aws.clear()
        clients = types.SimpleNamespace(s3=self.s3, sts=self.client("sts"), sesv2=FakeSESv2(client=ses),
                                        signer=lambda credentials: boto3.client("s3", region_name="us-east-1"))
        request = {"report": "audit", "from": "2024-07-15", "to": "2024-07-15", "requested_by": "ana@canalco.co", "format": "csv"}
        with mock.patch("sys.stdout"):
            result = reports.handler(request, FakeContext(), clients=clients, now=NIGHT)
        self.assertEqual(result["rows"], 2)
        self.assertEqual(len(self.aws.to("GetObject")), 1)
