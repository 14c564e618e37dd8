import contextlib
import io
import json
import os
import smtplib
import types
import unittest
from unittest import mock

from tests.fakes import FakeClientError, FakeContext, FakeSecretsManager, FakeSESv2, FakeSMTP, load_handler, metrics, run

notifications = load_handler("notifications")

ENV = {
    "SENDER": "Canalco <no-reply@canalco.example>",
    "CONFIGURATION_SET": "canalco-dev",
    "TEMPLATE_PREFIX": "canalco-dev-",
    "ENVIRONMENT": "dev",
    "METRIC_NAMESPACE": "Canalco/Test",
}
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:canalco-dev-smtp-AbCdEf"
SMTP_SECRET = {"host": "smtp.example.net", "port": "587", "username": "mailer", "password": "s3cret"}


def sns_event(*messages):
    """An SNS event; dict messages are JSON-encoded, strings passed as they are."""
    return {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"Message": m if isinstance(m, str) else json.dumps(m)}}
            for m in messages
        ]
    }


def message(event_type="requisition.created", recipients=("ana@canalco.co",), **data):
    return {"type": event_type, "recipients": list(recipients), "data": data or {"requisition_id": "REQ-7"}}


class NotificationsTestBase(unittest.TestCase):
    env = ENV

    def setUp(self):
        patcher = mock.patch.dict(os.environ, self.env, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        notifications._smtp_secrets.clear()
        self.ses = FakeSESv2()
        self.secrets = FakeSecretsManager({SECRET_ARN: SMTP_SECRET})
        self.smtp = FakeSMTP()
        self.clients = types.SimpleNamespace(sesv2=self.ses, secretsmanager=self.secrets, smtp=self.smtp)

    def invoke(self, event):
        return run(notifications, event, FakeContext(), self.clients)


class SesTransportTest(NotificationsTestBase):
    def test_sns_message_is_sent_with_the_mapped_ses_template(self):
        data = {"requisition_id": "REQ-7", "title": "Cable 12 AWG", "requester": "ana@canalco.co"}
        result, lines = self.invoke(sns_event(message("requisition.created", ["jefe@canalco.co"], **data)))

        self.assertEqual(result, {"sent": 1, "skipped": 0})
        self.assertEqual(self.ses.calls_to("SendEmail"), [{
            "FromEmailAddress": "Canalco <no-reply@canalco.example>",
            "Destination": {"ToAddresses": ["jefe@canalco.co"]},
            "Content": {"Template": {"TemplateName": "canalco-dev-requisicion-creada", "TemplateData": json.dumps(data)}},
            "ConfigurationSetName": "canalco-dev",
        }])
        self.assertEqual(
            metrics(lines), {"EmailsSent": 1, "_namespace": "Canalco/Test", "_environment": "dev"}
        )
        sent_log = next(line for line in lines if line.get("message") == "email sent")
        self.assertEqual(sent_log["template"], "requisicion-creada")
        self.assertEqual(sent_log["level"], "INFO")

    def test_every_event_type_maps_to_its_template(self):
        expected = {
            "requisition.created": "canalco-dev-requisicion-creada",
            "approval.requested": "canalco-dev-aprobacion-pendiente",
            "order.confirmed": "canalco-dev-orden-confirmada",
            "summary.scheduled": "canalco-dev-reporte-programado",
            "system.alert": "canalco-dev-alerta-sistema",
        }
        self.invoke(sns_event(*(message(event_type) for event_type in expected)))

        sent = [call["Content"]["Template"]["TemplateName"] for call in self.ses.calls_to("SendEmail")]
        self.assertEqual(sent, list(expected.values()))

    def test_scheduler_event_is_itself_the_message(self):
        event = {
            "source": "canalco.schedule",
            "type": "summary.scheduled",
            "recipients": ["gerencia@canalco.co"],
            "data": {"report": "orders"},
        }
        result, _ = self.invoke(event)

        self.assertEqual(result, {"sent": 1, "skipped": 0})
        (call,) = self.ses.calls_to("SendEmail")
        self.assertEqual(call["Destination"], {"ToAddresses": ["gerencia@canalco.co"]})
        self.assertEqual(call["Content"]["Template"]["TemplateName"], "canalco-dev-reporte-programado")
        self.assertEqual(json.loads(call["Content"]["Template"]["TemplateData"]), {"report": "orders"})

    def test_malformed_messages_are_skipped_without_losing_the_valid_ones(self):
        event = sns_event(
            "{not json",
            '"a JSON string"',
            message("requisition.deleted"),
            {"recipients": ["ana@canalco.co"], "data": {}},
            message(recipients=[]),
            message(recipients=["not-an-address", "ana@canalco.co\r\nBcc: evil@x.co"]),
            message(recipients=[f"user{i}@canalco.co" for i in range(51)]),
            {"type": "system.alert", "recipients": ["ops@canalco.co"], "data": ["not", "an", "object"]},
            {"type": "system.alert", "data": {}},
            message("order.confirmed", ["compras@canalco.co"], order_id="OC-1"),
        )
        event["Records"].insert(3, {"EventSource": "aws:sns"})  # no Sns part at all

        result, lines = self.invoke(event)

        self.assertEqual(result, {"sent": 1, "skipped": 10})
        (call,) = self.ses.calls_to("SendEmail")
        self.assertEqual(call["Destination"], {"ToAddresses": ["compras@canalco.co"]})
        self.assertEqual(call["Content"]["Template"]["TemplateName"], "canalco-dev-orden-confirmada")
        reasons = [line["reason"] for line in lines if line.get("message") == "message skipped"]
        self.assertEqual(len(reasons), 10)
        self.assertIn("message is not valid JSON", reasons)
        self.assertIn("unknown type 'requisition.deleted'", reasons)
        self.assertIn("51 recipients, at most 50 allowed", reasons)
        self.assertEqual(metrics(lines)["EmailsSent"], 1)

    def test_invalid_and_duplicate_recipients_are_dropped_and_fifty_are_allowed(self):
        fifty = [f"user{i}@canalco.co" for i in range(50)]
        self.invoke(sns_event(
            message(recipients=["ana@canalco.co", "no-arroba", " ana@canalco.co ", 42, "luis@canalco.com.co"]),
            message(recipients=fifty),
        ))

        first, second = self.ses.calls_to("SendEmail")
        self.assertEqual(first["Destination"]["ToAddresses"], ["ana@canalco.co", "luis@canalco.com.co"])
        self.assertEqual(second["Destination"]["ToAddresses"], fifty)

    def test_configuration_set_is_omitted_when_not_configured(self):
        del os.environ["CONFIGURATION_SET"]
        self.invoke(sns_event(message()))

        (call,) = self.ses.calls_to("SendEmail")
        self.assertNotIn("ConfigurationSetName", call)

    def test_ses_throttling_raises_for_a_retry_and_still_counts_what_was_sent(self):
        self.ses.fail_when["SendEmail"] = lambda call: call["Destination"]["ToAddresses"] == ["b@canalco.co"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(FakeClientError):
            notifications.handler(
                sns_event(message(recipients=["a@canalco.co"]), message(recipients=["b@canalco.co"])),
                FakeContext(),
                clients=self.clients,
            )
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        self.assertEqual(metrics(lines)["EmailsSent"], 1)

    def test_invalid_transport_configuration_fails_loudly(self):
        for env in ({"EMAIL_TRANSPORT": "pigeon"}, {"EMAIL_TRANSPORT": "smtp"}):
            with self.subTest(env=env), mock.patch.dict(os.environ, env):
                with self.assertRaises(ValueError):
                    self.invoke(sns_event(message()))
        self.assertEqual(self.ses.calls, [])


class SmtpTransportTest(NotificationsTestBase):
    env = dict(ENV, EMAIL_TRANSPORT="smtp", SMTP_SECRET_ARN=SECRET_ARN)

    def test_smtp_renders_the_template_and_sends_over_starttls(self):
        data = {"order_id": "OC-9", "requisition_id": "REQ-7", "supplier": "Eléctricos SAS", "url": "https://app/oc/9"}
        result, lines = self.invoke(sns_event(message("order.confirmed", ["a@canalco.co", "b@canalco.co"], **data)))

        self.assertEqual(result, {"sent": 1, "skipped": 0})
        self.assertEqual(self.smtp.events, [
            ("connect", "smtp.example.net", 587),
            ("starttls",),
            ("login", "mailer", "s3cret"),
            ("send",),
            ("quit",),
        ])
        (email,) = self.smtp.sent
        self.assertEqual(email["From"], "Canalco <no-reply@canalco.example>")
        self.assertEqual(email["To"], "a@canalco.co, b@canalco.co")
        self.assertEqual(email["Subject"], "Orden de compra OC-9 confirmada")
        self.assertEqual(
            email.get_content(),
            "Hola,\n\nLa orden de compra OC-9 de la requisición REQ-7 fue confirmada por Eléctricos SAS."
            "\n\nConsúltala en https://app/oc/9\n",
        )
        self.assertEqual(self.ses.calls, [])
        self.assertEqual(metrics(lines)["EmailsSent"], 1)
        self.assertNotIn("s3cret", json.dumps(lines))

    def test_secret_is_read_once_per_container(self):
        self.invoke(sns_event(message()))
        self.invoke(sns_event(message(), message("approval.requested")))

        self.assertEqual(self.secrets.calls_to("GetSecretValue"), [{"SecretId": SECRET_ARN}])
        self.assertEqual(len(self.smtp.sent), 3)
        self.assertEqual(self.smtp.sent[2]["Subject"], "Aprobación pendiente: requisición REQ-7")

    def test_missing_fields_render_empty_and_subject_cannot_inject_headers(self):
        self.invoke(sns_event(
            message("system.alert", title="Disco lleno\r\nBcc: evil@x.co", message="90% usado"),
            message("system.alert", title="Disco\nlleno"),
        ))

        first, second = self.smtp.sent
        self.assertEqual(first["Subject"], "[Canalco] Alerta: Disco lleno Bcc: evil@x.co")
        self.assertIsNone(first["Bcc"])
        self.assertEqual(first.get_content(), "90% usado\n\nAmbiente: \n")
        self.assertEqual(second["Subject"], "[Canalco] Alerta: Disco lleno")

    def test_conditional_parts_show_only_with_their_field(self):
        self.invoke(sns_event(
            message("summary.scheduled", report="resumen de actividad", url="https://app.canalco.co"),
            message("summary.scheduled", report="orders", url="https://s3/x", rows=0, expires_hours=24,
                    **{"from": "2024-06-01", "to": "2024-06-30"}),
        ))

        summary, report = self.smtp.sent
        self.assertEqual(summary["Subject"], "Reporte resumen de actividad")
        self.assertEqual(summary.get_content(), "Hola,\n\nTu reporte resumen de actividad está listo.\n\nÁbrelo en https://app.canalco.co.\n")
        self.assertEqual(report["Subject"], "Reporte orders del 2024-06-01 al 2024-06-30")
        self.assertIn("del 2024-06-01 al 2024-06-30 está listo.", report.get_content())
        self.assertIn("(el enlace vence en 24 horas)", report.get_content())

    def test_every_template_has_smtp_content(self):
        self.assertEqual(set(notifications.SMTP_CONTENT), set(notifications.TEMPLATES.values()))

    def test_authentication_failure_raises_and_rereads_the_rotated_secret(self):
        self.smtp.login_error = smtplib.SMTPAuthenticationError(535, b"bad credentials")
        with contextlib.redirect_stdout(io.StringIO()), self.assertRaises(smtplib.SMTPAuthenticationError):
            notifications.handler(sns_event(message()), FakeContext(), clients=self.clients)

        self.smtp.login_error = None
        self.invoke(sns_event(message()))

        self.assertEqual(len(self.secrets.calls_to("GetSecretValue")), 2)
        self.assertEqual(len(self.smtp.sent), 1)


if __name__ == "__main__":
    unittest.main()
