"""The fakes refuse what AWS refuses: a test passing against them would pass against AWS.
They stand only where moto 5.2.1 has nothing (tests/fakes.py says which)."""

import json
import unittest

import botocore.exceptions
import botocore.session
from moto import mock_aws

from tests import fakes
from tests.aws import MotoTestCase
from tests.fakes import FakeBackup, FakeClientError, FakeSESv2, project_templates, template_variables


class MotoLacksTheseTest(unittest.TestCase):
    """If moto learns one of these, its fake should go."""

    def test_moto_has_no_ses_v2_templates_nor_backup_restore_jobs(self):
        with mock_aws():
            import boto3

            ses = boto3.client("sesv2", region_name="us-east-1")
            with self.assertRaises(NotImplementedError):
                ses.send_email(FromEmailAddress="a@canalco.co", Destination={"ToAddresses": ["b@canalco.co"]},
                               Content={"Template": {"TemplateName": "t", "TemplateData": "{}"}})
            backup = boto3.client("backup", region_name="us-east-1")
            with self.assertRaisesRegex(botocore.exceptions.ClientError, "Not yet implemented"):
                backup.list_restore_jobs()


class ServiceModelValidationTest(unittest.TestCase):
    def test_calls_that_do_not_fit_the_botocore_model_fail(self):
        ses, backup = FakeSESv2(), FakeBackup()
        cases = [
            ("SES v1 parameter name on SES v2", lambda: ses.send_email(
                Source="a@canalco.co", Destination={"ToAddresses": ["b@canalco.co"]},
                Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}})),
            ("recipients as a string", lambda: ses.send_email(
                FromEmailAddress="a@canalco.co", Destination={"ToAddresses": "b@canalco.co"},
                Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}})),
            ("template data as an object", lambda: ses.send_email(
                FromEmailAddress="a@canalco.co", Destination={"ToAddresses": ["b@canalco.co"]},
                Content={"Template": {"TemplateName": "t", "TemplateData": {}}})),
            ("validation result without its status", lambda: backup.put_restore_validation_result(RestoreJobId="j")),
            ("restore jobs by an unknown status type", lambda: backup.list_restore_jobs(ByStatus=1)),
        ]
        for name, call in cases:
            with self.subTest(name), self.assertRaises(botocore.exceptions.ParamValidationError):
                call()

    def test_the_models_are_botocores_current_ones(self):
        # SES v2's attachments (2025) are in the model the fakes check against; 1.29's lacked them.
        self.assertIn("Attachments", fakes.service_model("sesv2").shape_for("Message").members)

    def test_every_fake_client_names_its_botocore_service(self):
        clients = [cls for cls in vars(fakes).values()
                   if isinstance(cls, type) and issubclass(cls, fakes._Recorder) and cls is not fakes._Recorder]
        self.assertEqual({"FakeSESv2", "FakeBackup"}, {cls.__name__ for cls in clients})
        for cls in clients:
            with self.subTest(cls.__name__):
                self.assertIn(cls.service, botocore.session.get_session().get_available_services())


class SesForwardingTest(MotoTestCase):
    def test_sends_without_a_template_go_to_moto_which_refuses_an_unverified_sender(self):
        client = self.client("sesv2")
        client.create_email_identity(EmailIdentity="canalco.co")
        ses = FakeSESv2(client=client)
        simple = {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}}
        ses.send_email(FromEmailAddress="a@canalco.co", Destination={"ToAddresses": ["b@canalco.co"]}, Content=simple)
        self.assertEqual([m.subject for m in self.sent_emails()], ["s"])
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            ses.send_email(FromEmailAddress="a@elsewhere.co", Destination={"ToAddresses": ["b@canalco.co"]}, Content=simple)
        self.assertEqual(raised.exception.response["Error"]["Code"], "MessageRejected")


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
