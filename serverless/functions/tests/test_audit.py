import json
import os
import types
import unittest
from datetime import datetime, timezone
from unittest import mock

from tests.fakes import FakeContext, FakeS3, load_handler, metrics, run

audit = load_handler("audit")

BUCKET = "canalco-dev-auditoria-123456789012-us-east-1"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ENV = {
    "AUDIT_BUCKET": BUCKET,
    "AUDIT_PREFIX": "audit/",
    "KMS_KEY_ARN": KMS_KEY_ARN,
    "ENVIRONMENT": "dev",
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


def lines_of(put_call):
    return [json.loads(line) for line in put_call["Body"].decode("utf-8").splitlines()]


class AuditTest(unittest.TestCase):
    def setUp(self):
        for patcher in (mock.patch.dict(os.environ, ENV, clear=True), mock.patch.object(audit, "_utcnow", lambda: NOW)):
            patcher.start()
            self.addCleanup(patcher.stop)
        self.s3 = FakeS3()
        self.clients = types.SimpleNamespace(s3=self.s3)

    def invoke(self, event, context=FakeContext("req-1")):
        return run(audit, event, context, self.clients)

    def test_events_are_written_as_json_lines_partitioned_by_their_own_utc_day(self):
        first = audit_event("e1", "2024-05-31T10:00:00Z")
        late_in_bogota = audit_event("e2", "2024-05-31T22:30:00-05:00", action="order.confirm")  # June 1st in UTC
        second = audit_event("e3", "2024-05-31T23:59:59.123456+00:00", details={"nota": "línea"})

        result, lines = self.invoke(sqs_event(first, late_in_bogota, second))

        self.assertEqual(result, {"batchItemFailures": []})
        puts = self.s3.calls_to("PutObject")
        self.assertEqual([call["Key"] for call in puts], [
            "audit/year=2024/month=05/day=31/req-1.jsonl",
            "audit/year=2024/month=06/day=01/req-1.jsonl",
        ])
        for call in puts:
            self.assertEqual(call["Bucket"], BUCKET)
            self.assertEqual(call["ContentType"], "application/x-ndjson")
            self.assertEqual(call["ServerSideEncryption"], "aws:kms")
            self.assertEqual(call["SSEKMSKeyId"], KMS_KEY_ARN)
        self.assertEqual(lines_of(puts[0]), [first, second])
        self.assertEqual(lines_of(puts[1]), [late_in_bogota])
        self.assertTrue(puts[0]["Body"].endswith(b"\n"))
        self.assertIn("línea".encode("utf-8"), puts[0]["Body"])
        self.assertEqual(
            metrics(lines), {"AuditEventsWritten": 3, "_namespace": "Canalco/Business", "_environment": "dev"}
        )

    def test_without_kms_key_the_bucket_default_encryption_applies(self):
        del os.environ["KMS_KEY_ARN"]
        self.invoke(sqs_event(audit_event("e1", "2024-05-31T10:00:00Z")))

        (call,) = self.s3.calls_to("PutObject")
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
        puts = {call["Key"]: call for call in self.s3.calls_to("PutObject")}
        self.assertEqual(sorted(puts), [
            "audit/rejected/year=2024/month=07/day=15/req-1.jsonl",
            "audit/year=2024/month=05/day=31/req-1.jsonl",
        ])
        self.assertEqual(lines_of(puts["audit/year=2024/month=05/day=31/req-1.jsonl"]), [valid])
        rejected = lines_of(puts["audit/rejected/year=2024/month=07/day=15/req-1.jsonl"])
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
        self.s3.fail_when["PutObject"] = lambda call: "day=01" in call["Key"]
        event = sqs_event(
            audit_event("e1", "2024-05-31T10:00:00Z"),
            audit_event("e2", "2024-06-01T08:00:00Z"),
            "not json",
            audit_event("e3", "2024-06-01T09:00:00Z"),
            audit_event("e4", "2024-05-31T11:00:00Z"),
        )

        result, lines = self.invoke(event)

        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]})
        self.assertEqual(self.s3.keys(BUCKET), [
            "audit/rejected/year=2024/month=07/day=15/req-1.jsonl",
            "audit/year=2024/month=05/day=31/req-1.jsonl",
        ])
        self.assertEqual(metrics(lines)["AuditEventsWritten"], 2)
        (error,) = [line for line in lines if line.get("level") == "ERROR"]
        self.assertEqual(error["key"], "audit/year=2024/month=06/day=01/req-1.jsonl")

    def test_failed_rejected_put_retries_the_rejected_messages(self):
        self.s3.fail_when["PutObject"] = lambda call: "/rejected/" in call["Key"]

        result, _ = self.invoke(sqs_event(audit_event("e1", "2024-05-31T10:00:00Z"), "not json"))

        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m1"}]})

    def test_defaults_prefix_and_names_the_object_without_a_context(self):
        del os.environ["AUDIT_PREFIX"]

        self.invoke(sqs_event(audit_event("e1", "2024-05-31")), context=None)

        (key,) = self.s3.keys(BUCKET)
        self.assertRegex(key, r"^audit/year=2024/month=05/day=31/[0-9a-f-]{36}\.jsonl$")

    def test_empty_batch_writes_nothing(self):
        result, lines = self.invoke({"Records": []})

        self.assertEqual(result, {"batchItemFailures": []})
        self.assertEqual(self.s3.calls, [])
        self.assertEqual(metrics(lines)["AuditEventsWritten"], 0)


if __name__ == "__main__":
    unittest.main()

