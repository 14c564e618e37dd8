"""The fakes refuse what AWS refuses: a test passing against them would pass against AWS."""

import json
import unittest

import botocore.exceptions
import botocore.session

from tests import fakes
from tests.fakes import (
    FakeClientError, FakeS3, FakeSecretsManager, FakeSESv2, FakeSTS, project_templates, template_variables,
)

BUCKET = "canalco-dev-reportes-123456789012-us-east-1"


class ServiceModelValidationTest(unittest.TestCase):
    def test_calls_that_do_not_fit_the_botocore_model_fail(self):
        s3, ses, secrets, sts = FakeS3(), FakeSESv2(), FakeSecretsManager({"arn": {}}), FakeSTS()
        cases = [
            ("unknown parameter", lambda: s3.put_object(Bucket=BUCKET, Key="k", Body=b"", ContentTyp="text/csv")),
            ("missing required Key", lambda: s3.put_object(Bucket=BUCKET, Body=b"")),
            ("Body of the wrong type", lambda: s3.put_object(Bucket=BUCKET, Key="k", Body=42)),
            ("SES v1 parameter name on SES v2", lambda: ses.send_email(
                Source="a@canalco.co", Destination={"ToAddresses": ["b@canalco.co"]},
                Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}})),
            ("recipients as a string", lambda: ses.send_email(
                FromEmailAddress="a@canalco.co", Destination={"ToAddresses": "b@canalco.co"},
                Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}})),
            ("presign with a parameter get_object lacks", lambda: s3.generate_presigned_url(
                "get_object", Params={"Bucket": BUCKET, "Key": "k", "Expires": 3600}, ExpiresIn=3600)),
            ("secret id of the wrong type", lambda: secrets.get_secret_value(SecretId=["arn"])),
            ("session shorter than STS's 900 s", lambda: sts.assume_role(
                RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="report-link-1", DurationSeconds=600)),
            ("assume role without a session name", lambda: sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/r")),
        ]
        for name, call in cases:
            with self.subTest(name), self.assertRaises(botocore.exceptions.ParamValidationError):
                call()

    def test_valid_calls_pass(self):
        s3 = FakeS3()
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", ContentType="text/csv", ServerSideEncryption="aws:kms")
        s3.copy_object(Bucket=BUCKET, Key="k2", CopySource={"Bucket": BUCKET, "Key": "k"}, StorageClass="GLACIER_IR")
        self.assertEqual(s3.get_object(Bucket=BUCKET, Key="k2")["Body"].read(), b"x")
        sts = FakeSTS()
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="report-link-1", DurationSeconds=900)
        self.assertEqual(len(sts.calls_to("AssumeRole")), 1)

    def test_every_fake_client_names_its_botocore_service(self):
        clients = [cls for cls in vars(fakes).values()
                   if isinstance(cls, type) and issubclass(cls, fakes._Recorder) and cls is not fakes._Recorder]
        self.assertGreaterEqual(len(clients), 4)
        for cls in clients:
            with self.subTest(cls.__name__):
                self.assertIn(cls.service, botocore.session.get_session().get_available_services())


class S3RulesTest(unittest.TestCase):
    def test_archived_objects_cannot_be_read_until_restored(self):
        s3 = FakeS3()
        s3.add(BUCKET, "glacier", b"x", StorageClass="GLACIER")
        s3.add(BUCKET, "deep", b"x", StorageClass="DEEP_ARCHIVE")
        s3.add(BUCKET, "restored", b"x", StorageClass="GLACIER", Restore='ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"')
        s3.add(BUCKET, "instant", b"x", StorageClass="GLACIER_IR")
        for key in ("glacier", "deep"):
            with self.subTest(key), self.assertRaises(FakeClientError) as raised:
                s3.get_object(Bucket=BUCKET, Key=key)
            self.assertEqual(raised.exception.response["Error"]["Code"], "InvalidObjectState")
        for key in ("restored", "instant"):
            self.assertEqual(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read(), b"x")

    def test_expired_credentials_fail_every_call_and_cut_presigned_links_short(self):
        s3 = FakeS3(credentials_valid_seconds=3600)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=86400)
        self.assertEqual(s3.link_valid_seconds[url], 3600)
        s3.expire_credentials()
        with self.assertRaises(FakeClientError) as raised:
            s3.put_object(Bucket=BUCKET, Key="k", Body=b"")
        self.assertEqual(raised.exception.response["Error"]["Code"], "ExpiredToken")

    def test_presigned_urls_last_at_most_seven_days(self):
        with self.assertRaises(AssertionError):
            FakeS3().generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=604801)


class SesRenderingTest(unittest.TestCase):
    def send(self, ses, data, template="canalco-dev-alerta-sistema"):
        return ses.send_email(
            FromEmailAddress="no-reply@canalco.co",
            Destination={"BccAddresses": ["ops@canalco.co"]},
            Content={"Template": {"TemplateName": template, "TemplateData": json.dumps(data)}},
        )

    def test_a_missing_variable_is_accepted_but_never_delivered(self):
        ses = FakeSESv2()
        response = self.send(ses, {"title": "t", "message": "m", "html": {"title": "t", "message": "m"}})  # no environment
        self.assertIn("MessageId", response)
        self.assertEqual(ses.delivered, [])
        (event,) = ses.events
        self.assertEqual(event["eventType"], "Rendering Failure")
        self.assertIn("environment", event["failure"]["errorMessage"])

    def test_complete_data_is_delivered_without_escaping_the_html_part(self):
        ses = FakeSESv2(templates={"t": {"subject": "{{a}}", "html": "<p>{{a}}</p>{{#if b}}{{c}}{{/if}}", "text": "{{a}}"}})
        self.send(ses, {"a": "<b>x</b>"}, template="t")  # b is false: c is never read
        (mail,) = ses.delivered
        self.assertEqual(mail["html"], "<p><b>x</b></p>")
        self.assertEqual(ses.events, [])

    def test_an_unknown_template_is_not_found(self):
        with self.assertRaises(FakeClientError) as raised:
            self.send(FakeSESv2(), {}, template="canalco-dev-no-such-template")
        self.assertEqual(raised.exception.response["Error"]["Code"], "NotFoundException")

    def test_template_variables_reads_the_real_templates(self):
        self.assertEqual(template_variables(project_templates()["alerta-sistema"]["text"]), {"title", "message", "environment"})


if __name__ == "__main__":
    unittest.main()
