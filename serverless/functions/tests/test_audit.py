import hashlib
import json
import os
import types
import unittest
from datetime import datetime, timezone
from unittest import mock

import boto3

from tests.aws import MotoTestCase, fail
from tests.fakes import FakeContext, load_handler, metrics, run

audit = load_handler("audit")

BUCKET = "canalco-dev-auditoria-123456789012-us-east-1"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ENV = {
    "AUDIT_BUCKET": BUCKET,
    "AUDIT_PREFIX": "audit/",
    "KMS_KEY_ARN": KMS_KEY_ARN,
    "ENVIRONMENT": "dev",
    "TIMEZONE": "America/Bogota",
}
NOW = datetime(2024, 7, 15, 12, 0, tzinfo=timezone.utc)


def audit_event(event_id, occurred_at, action="requisition.approve", **extra):
    return {
        "id": event_id,
        "occurred_at": occurred_at,
        "actor": "ana@canalco.co",
        "action": action,
        "entity": "requisition",
        "entity_id": "REQ-7",
        "details": {"from": "pending", "to": "approved"},
        **extra,
    }


def sqs_event(*bodies):
    """An SQS event; message i has messageId "m<i>"; dict bodies are JSON-encoded."""
    return {
        "Records": [
            {"messageId": f"m{i}", "body": body if isinstance(body, str) else json.dumps(body)}
            for i, body in enumerate(bodies)
        ]
    }


class AuditTest(MotoTestCase):
    def setUp(self):
        for patcher in (mock.patch.dict(os.environ, ENV, clear=True), mock.patch.object(audit, "_utcnow", lambda: NOW)):
            patcher.start()
            self.addCleanup(patcher.stop)
        super().setUp()
        self.s3 = self.client("s3")
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        self.clients = types.SimpleNamespace(s3=self.s3)

    def invoke(self, event, context=FakeContext("req-1")):
        return run(audit, event, context, self.clients)

    def keys(self):
        return [obj["Key"] for obj in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def stored(self, key):
        """The object's lines as events, and the object as S3 returns it."""
        obj = self.s3.get_object(Bucket=BUCKET, Key=key)
        return [json.loads(line) for line in obj["Body"].read().decode("utf-8").splitlines()], obj

    def day_key(self, day, *ids):
        return f"audit/{day}/{hashlib.sha256(chr(10).join(sorted(ids)).encode()).hexdigest()}.jsonl"

    def test_events_are_written_as_json_lines_partitioned_by_their_own_bogota_day(self):
        first = audit_event("e1", "2024-05-31T10:00:00Z")
        late_in_bogota = audit_event("e2", "2024-05-31T22:30:00-05:00", action="order.confirm")  # June 1st in UTC
        early_utc = audit_event("e3", "2024-06-01T04:59:59.123456+00:00", details={"nota": "línea"})  # May 31st in Bogotá
        next_day = audit_event("e4", "2024-06-01T05:00:00+00:00")  # midnight in Bogotá

        result, lines = self.invoke(sqs_event(first, late_in_bogota, early_utc, next_day))

        self.assertEqual(result, {"batchItemFailures": []})
        may31 = self.day_key("year=2024/month=05/day=31", "e1", "e2", "e3")
        june1 = self.day_key("year=2024/month=06/day=01", "e4")
        self.assertEqual(sorted(self.keys()), [may31, june1])
        events, obj = self.stored(may31)
        self.assertEqual(events, [first, late_in_bogota, early_utc])
        self.assertEqual(self.stored(june1)[0], [next_day])
        self.assertEqual((obj["ContentType"], obj["ServerSideEncryption"], obj["SSEKMSKeyId"]),
                         ("application/x-ndjson", "aws:kms", KMS_KEY_ARN))
        (put, _) = self.aws.to("PutObject")
        self.assertTrue(put["Body"].endswith(b"\n"))
        self.assertIn("línea".encode("utf-8"), put["Body"])
        self.assertEqual(
            metrics(lines), {"AuditEventsWritten": 4, "_namespace": "Canalco/Business", "_environment": "dev"}
        )

    def test_a_redelivered_batch_overwrites_its_objects_and_a_repeated_id_is_written_once(self):
        event = sqs_event(audit_event("e1", "2024-05-31T10:00:00Z"), audit_event("e1", "2024-05-31T10:00:00Z"),
                          audit_event("e2", "2024-05-31T11:00:00Z"))

        first, _ = self.invoke(event, FakeContext("req-1"))
        again, lines = self.invoke(event, FakeContext("req-2"))  # SQS delivered the batch again

        self.assertEqual(first, again)
        (key,) = self.keys()
        self.assertEqual([e["id"] for e in self.stored(key)[0]], ["e1", "e2"])
        self.assertEqual(metrics(lines)["AuditEventsWritten"], 2)

    def test_without_kms_key_the_bucket_default_encryption_applies(self):
        del os.environ["KMS_KEY_ARN"]
        self.invoke(sqs_event(audit_event("e1", "2024-05-31T10:00:00Z")))

        (call,) = self.aws.to("PutObject")
        self.assertNotIn("ServerSideEncryption", call)
        self.assertNotIn("SSEKMSKeyId", call)

    def test_invalid_messages_go_to_the_rejected_partition_and_are_not_retried(self):
        valid = audit_event("e1", "2024-05-31T10:00:00Z")
        event = sqs_event(
            "{oops",
            valid,
            {"occurred_at": "2024-05-31T10:00:00Z", "action": "x"},
            audit_event("e4", "2024-05-31T10:00:00Z", action=" "),
            audit_event("e5", "31/05/2024"),
            ["not", "an", "object"],
        )
        event["Records"].append({"messageId": "m6"})  # no body at all

        result, lines = self.invoke(event)

        self.assertEqual(result, {"batchItemFailures": []})
        valid_key = self.day_key("year=2024/month=05/day=31", "e1")
        self.assertEqual(sorted(self.keys()), ["audit/rejected/year=2024/month=07/day=15/req-1.jsonl", valid_key])
        self.assertEqual(self.stored(valid_key)[0], [valid])
        rejected = self.stored("audit/rejected/year=2024/month=07/day=15/req-1.jsonl")[0]
        self.assertEqual([r["message_id"] for r in rejected], ["m0", "m2", "m3", "m4", "m5", "m6"])
        self.assertEqual([r["reason"] for r in rejected], [
            "body is not valid JSON",
            "missing or empty field(s): id",
            "missing or empty field(s): action",
            "occurred_at is not an ISO-8601 date-time",
            "body is not a JSON object",
            "body is not valid JSON",
        ])
        self.assertEqual(rejected[0]["body"], "{oops")
        self.assertIsNone(rejected[-1]["body"])
        self.assertEqual({r["received_at"] for r in rejected}, {"2024-07-15T12:00:00+00:00"})
        self.assertEqual(metrics(lines)["AuditEventsWritten"], 1)

    def test_failed_put_reports_exactly_that_days_messages(self):
        fail(self.s3, "PutObject", when=lambda call: "day=01" in call["Key"])
        event = sqs_event(
            audit_event("e1", "2024-05-31T10:00:00Z"),
            audit_event("e2", "2024-06-01T08:00:00Z"),
            "not json",
            audit_event("e3", "2024-06-01T09:00:00Z"),
            audit_event("e4", "2024-05-31T11:00:00Z"),
        )

        result, lines = self.invoke(event)

        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]})
        self.assertEqual(sorted(self.keys()), [
            "audit/rejected/year=2024/month=07/day=15/req-1.jsonl",
            self.day_key("year=2024/month=05/day=31", "e1", "e4"),
        ])
        self.assertEqual(metrics(lines)["AuditEventsWritten"], 2)
        (error,) = [line for line in lines if line.get("level") == "ERROR"]
        self.assertEqual(error["key"], self.day_key("year=2024/month=06/day=01", "e2", "e3"))

    def test_failed_rejected_put_retries_the_rejected_messages(self):
        fail(self.s3, "PutObject", when=lambda call: "/rejected/" in call["Key"])

        result, _ = self.invoke(sqs_event(audit_event("e1", "2024-05-31T10:00:00Z"), "not json"))

        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m1"}]})

    def test_defaults_prefix_and_names_rejects_without_a_context(self):
        del os.environ["AUDIT_PREFIX"]

        self.invoke(sqs_event(audit_event("e1", "2024-05-31"), "x"), context=None)

        rejected, valid = sorted(self.keys())
        self.assertEqual(valid, self.day_key("year=2024/month=05/day=31", "e1"))
        self.assertRegex(rejected, r"^audit/rejected/year=2024/month=07/day=15/[0-9a-f-]{36}\.jsonl$")

    def test_empty_batch_writes_nothing(self):
        result, lines = self.invoke({"Records": []})

        self.assertEqual(result, {"batchItemFailures": []})
        self.assertEqual(self.aws.calls, [])
        self.assertEqual(metrics(lines)["AuditEventsWritten"], 0)


if __name__ == "__main__":
    unittest.main()

