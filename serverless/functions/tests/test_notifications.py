import contextlib
import functools
import html
import io
import json
import os
import re
import smtplib
import ssl
import subprocess
import tempfile
import types
import unittest
import urllib.parse
import urllib.request
from unittest import mock

from tests import loopback
from tests.aws import MotoTestCase
from tests.fakes import (
    FakeClientError, FakeContext, FakeSESv2, FakeSMTP, load_handler, metrics, project_templates, run, template_variables,
)

notifications = load_handler("notifications")
# Every function that sends SES templates, with the fields it sends per template (TEMPLATE_FIELDS).
SENDERS = {"notifications": notifications, "reports": load_handler("reports")}

ENV = {
    "SENDER": "Canalco <no-reply@canalco.example>",
    "CONFIGURATION_SET": "canalco-dev",
    "TEMPLATE_PREFIX": "canalco-dev-",
    "ENVIRONMENT": "dev",
    "METRIC_NAMESPACE": "Canalco/Test",
    "APP_URL": "https://app.canalco.example",
}
# Replaced, in each test, by the ARN Secrets Manager (moto) gives the secret it stores.
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:canalco-dev-smtp-AbCdEf"
SMTP_SECRET = {
    "host": "smtp.example.net", "port": "587", "username": "mailer@canalco.example",
    "tenant_id": "contoso-tenant", "client_id": "app-id", "client_secret": "s3cret",
}


class FakeTokenEndpoint:
    """Stands for urllib.request.urlopen against the Microsoft identity platform."""

    def __init__(self):
        self.requests = []

    def __call__(self, request, timeout=None):
        self.requests.append((request.full_url, urllib.parse.parse_qs(request.data.decode())))
        return io.BytesIO(json.dumps({"access_token": f"tok-{len(self.requests)}", "expires_in": 3599}).encode())


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


class SmtpSecretMixin(MotoTestCase):
    def store_secret(self, secret):
        """The SMTP secret in Secrets Manager (moto), and SMTP_SECRET_ARN pointing at it."""
        super().setUp()
        self.secrets = self.client("secretsmanager")
        self.secret_arn = self.secrets.create_secret(Name="canalco-dev-smtp", SecretString=json.dumps(secret))["ARN"]
        if "SMTP_SECRET_ARN" in os.environ:
            os.environ["SMTP_SECRET_ARN"] = self.secret_arn
        self.aws.clear()


class NotificationsTestBase(SmtpSecretMixin):
    env = ENV

    def setUp(self):
        patcher = mock.patch.dict(os.environ, self.env, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        notifications._smtp_secrets.clear()
        notifications._tokens.clear()
        self.ses = FakeSESv2()
        self.store_secret(SMTP_SECRET)
        self.smtp = FakeSMTP()
        self.tokens = FakeTokenEndpoint()
        self.clients = types.SimpleNamespace(sesv2=self.ses, secretsmanager=self.secrets, smtp=self.smtp, urlopen=self.tokens)

    def invoke(self, event):
        return run(notifications, event, FakeContext(), self.clients)


class SesTransportTest(NotificationsTestBase):
    def test_sns_message_is_sent_with_the_mapped_ses_template(self):
        data = {"requisition_id": "REQ-7", "title": "Cable 12 AWG", "requester": "ana@canalco.co",
                "url": "https://app.canalco.example/requisiciones/REQ-7"}
        result, lines = self.invoke(sns_event(message("requisition.created", ["jefe@canalco.co"], **data)))

        self.assertEqual(result, {"sent": 1, "skipped": 0})
        (call,) = self.ses.calls_to("SendEmail")
        sent_data = json.loads(call["Content"]["Template"].pop("TemplateData"))
        self.assertEqual(call, {
            "FromEmailAddress": "Canalco <no-reply@canalco.example>",
            "Destination": {"BccAddresses": ["jefe@canalco.co"]},
            "Content": {"Template": {"TemplateName": "canalco-dev-requisicion-creada"}},
            "ConfigurationSetName": "canalco-dev",
        })
        self.assertEqual(sent_data, dict(data, html=data))
        (mail,) = self.ses.delivered
        self.assertIn('href="https://app.canalco.example/requisiciones/REQ-7"', mail["html"])
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
        self.assertEqual(call["Destination"], {"BccAddresses": ["gerencia@canalco.co"]})
        self.assertEqual(call["Content"]["Template"]["TemplateName"], "canalco-dev-reporte-programado")
        data = json.loads(call["Content"]["Template"]["TemplateData"])
        self.assertEqual(data["report"], "orders")
        self.assertEqual(data["url"], "https://app.canalco.example")

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
        self.assertEqual(call["Destination"], {"BccAddresses": ["compras@canalco.co"]})
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
        self.assertEqual(first["Destination"], {"BccAddresses": ["ana@canalco.co", "luis@canalco.com.co"]})
        self.assertEqual(second["Destination"], {"BccAddresses": fifty})

    def test_configuration_set_is_omitted_when_not_configured(self):
        del os.environ["CONFIGURATION_SET"]
        self.invoke(sns_event(message()))

        (call,) = self.ses.calls_to("SendEmail")
        self.assertNotIn("ConfigurationSetName", call)

    def test_ses_throttling_raises_for_a_retry_and_still_counts_what_was_sent(self):
        self.ses.fail_when["SendEmail"] = lambda call: call["Destination"]["BccAddresses"] == ["b@canalco.co"]
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
        data = {"order_id": "OC-9", "requisition_id": "REQ-7", "supplier": "Eléctricos SAS", "url": "https://app.canalco.example/oc/9"}
        result, lines = self.invoke(sns_event(message("order.confirmed", ["a@canalco.co", "b@canalco.co"], **data)))

        self.assertEqual(result, {"sent": 1, "skipped": 0})
        self.assertEqual(self.smtp.events, [
            ("connect", "smtp.example.net", 587),
            ("starttls",),
            ("ehlo",),
            ("auth", "XOAUTH2", "user=mailer@canalco.example\x01auth=Bearer tok-1\x01\x01"),
            ("send", ["a@canalco.co", "b@canalco.co"]),
            ("quit",),
        ])
        (email,) = self.smtp.sent
        self.assertEqual(email["From"], "Canalco <no-reply@canalco.example>")
        self.assertIsNone(email["To"], "recipients are envelope-only, blind to each other")
        self.assertEqual(email["Subject"], "Orden de compra OC-9 confirmada")
        self.assertEqual(
            email.get_content(),
            "Hola,\n\nLa orden de compra OC-9 de la requisición REQ-7 fue confirmada por Eléctricos SAS."
            "\n\nConsúltala en https://app.canalco.example/oc/9\n",
        )
        self.assertEqual(self.ses.calls, [])
        self.assertEqual(metrics(lines)["EmailsSent"], 1)
        self.assertNotIn("s3cret", json.dumps(lines))

    def test_secret_is_read_once_per_container(self):
        self.invoke(sns_event(message()))
        self.invoke(sns_event(message(), message("approval.requested")))

        self.assertEqual(self.aws.to("GetSecretValue"), [{"SecretId": self.secret_arn}])
        self.assertEqual(len(self.tokens.requests), 1, "the token is reused until shortly before it expires")
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
        self.assertEqual(first.get_content(), "90% usado\n\nAmbiente: dev\n")
        self.assertEqual(second["Subject"], "[Canalco] Alerta: Disco lleno")

    def test_conditional_parts_show_only_with_their_field(self):
        self.invoke(sns_event(
            message("summary.scheduled", report="resumen de actividad", url="https://app.canalco.example"),
            message("summary.scheduled", report="orders", url="https://app.canalco.example/r", rows=0, expires_hours=24,
                    **{"from": "2024-06-01", "to": "2024-06-30"}),
        ))

        summary, report = self.smtp.sent
        self.assertEqual(summary["Subject"], "Reporte resumen de actividad")
        self.assertEqual(summary.get_content(), "Hola,\n\nTu reporte resumen de actividad está listo.\n\nÁbrelo en https://app.canalco.example.\n")
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

        self.assertEqual(len(self.aws.to("GetSecretValue")), 2)
        self.assertEqual(len(self.tokens.requests), 2, "a rejected token is not reused")
        self.assertEqual(len(self.smtp.sent), 1)


class TemplateDataTest(NotificationsTestBase):
    """SES accepts a send whose data misses a template variable and then drops the email
    (SES knowledge center, "ses-sendtemplatedemail-delivery-failure"): every message must
    render, whatever fields it carries."""

    def test_every_template_is_sent_by_exactly_one_function(self):
        senders = {}
        for function, module in SENDERS.items():
            for name in module.TEMPLATE_FIELDS:
                senders.setdefault(name, []).append(function)
        self.assertEqual({name: functions for name, functions in senders.items() if len(functions) > 1}, {},
                         "a template sent by two functions")
        self.assertEqual(set(senders), set(project_templates()), "templates no function sends, or sent but missing")
        self.assertEqual(set(notifications.TEMPLATE_FIELDS), set(notifications.TEMPLATES.values()))

    def test_every_template_variable_has_a_field(self):
        templates = project_templates()
        for function, module in SENDERS.items():
            for name, sent in module.TEMPLATE_FIELDS.items():
                with self.subTest(name, function=function):
                    template = templates[name]
                    used = set().union(*(template_variables(template[part]) for part in ("subject", "html", "text")))
                    fields = set(sent)
                    self.assertEqual(used, fields | {"html." + f for f in fields} & used, "template variables without a field")
                    if module is notifications:
                        self.assertLessEqual(
                            template_variables(" ".join(notifications.SMTP_CONTENT[name])), fields,
                            "SMTP content reads unknown fields")

    def test_every_message_renders_with_or_without_its_fields(self):
        full = {"requisition_id": "REQ-7", "order_id": "OC-1", "title": "t", "requester": "r", "supplier": "s",
                "message": "m", "report": "orders", "from": "2024-06-01", "to": "2024-06-30", "rows": 3,
                "expires_hours": 24, "url": "https://app.canalco.example/x"}
        for event_type in notifications.TEMPLATES:
            for data in ({}, full):
                with self.subTest(event_type, fields=bool(data)):
                    self.ses = self.clients.sesv2 = FakeSESv2()
                    self.invoke(sns_event({"type": event_type, "recipients": ["a@canalco.co"], "data": data}))
                    self.assertEqual(self.ses.events, [], "SES would drop this email as a rendering failure")
                    self.assertEqual(len(self.ses.delivered), 1)


class HtmlInjectionTest(NotificationsTestBase):
    """SES doesn't escape HTML content when rendering the HTML part (SES Developer Guide,
    "Advanced email personalization"): user fields are escaped, links are the app's own."""

    def test_hostile_fields_are_escaped_in_html_and_kept_in_text(self):
        hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>&'
        self.invoke(sns_event(message("approval.requested", title=hostile, requester="Ana <a@x.co>",
                                      requisition_id="REQ-1", url="https://app.canalco.example/r/1")))
        (mail,) = self.ses.delivered
        self.assertNotIn("<script>", mail["html"])
        self.assertNotIn("<img", mail["html"])
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;", mail["html"])
        self.assertIn("Ana &lt;a@x.co&gt;", mail["html"])
        self.assertIn(hostile, mail["text"])

    def test_only_https_links_to_the_app_go_out(self):
        links = {
            "https://app.canalco.example/requisiciones/REQ-1?tab=2": True,
            "https://APP.canalco.example/x": True,
            "http://app.canalco.example/x": False,
            "javascript:alert(1)": False,
            'https://app.canalco.example/" onclick="alert(1)': True,  # stays on the app; the quote is escaped
            "https://evil.example/phish": False,
            "https://app.canalco.example.evil.example/": False,
            "https://app.canalco.example@evil.example/": False,
            "https://app.canalco.example:8443/": False,
            "//evil.example/": False,
            "": False,
        }
        for link, kept in links.items():
            with self.subTest(link):
                self.ses = self.clients.sesv2 = FakeSESv2()
                self.invoke(sns_event(message("requisition.created", requisition_id="R", url=link)))
                (mail,) = self.ses.delivered
                href = re.search(r'href="([^"]*)"', mail["html"]).group(1)
                self.assertEqual(href, html.escape(link, quote=True) if kept else "https://app.canalco.example")
                self.assertNotIn('onclick="', mail["html"])


class XOAuth2LoopbackTest(SmtpSecretMixin):
    """The real smtplib and urllib against servers on 127.0.0.1: Microsoft's token endpoint
    (client-credentials grant, "Authenticate an IMAP, POP or SMTP connection using OAuth") and
    an SMTP server that offers only AUTH XOAUTH2, after STARTTLS with a certificate the client verifies."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        cert, key = os.path.join(self.tmp.name, "cert.pem"), os.path.join(self.tmp.name, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True)
        self.token_server = loopback.TokenServer(token="eyJ0eXAi.token")
        self.smtp_server = loopback.SmtpServer(cert, key, user="mailer@canalco.example", token="eyJ0eXAi.token")
        for server in (self.token_server, self.smtp_server):
            server.start()
            self.addCleanup(server.stop)
        secret = dict(SMTP_SECRET, host="localhost", port=self.smtp_server.port)
        patches = [
            mock.patch.dict(os.environ, dict(ENV, EMAIL_TRANSPORT="smtp", SMTP_SECRET_ARN=SECRET_ARN), clear=True),
            mock.patch.object(notifications, "TOKEN_AUTHORITY", self.token_server.url),
            # The client verifies the server's certificate, issued by this test's own authority.
            mock.patch.object(notifications.ssl, "create_default_context",
                              functools.partial(ssl.create_default_context, cafile=cert)),
        ]
        for patcher in patches:
            patcher.start()
            self.addCleanup(patcher.stop)
        notifications._smtp_secrets.clear()
        notifications._tokens.clear()
        self.store_secret(secret)
        self.clients = types.SimpleNamespace(
            sesv2=FakeSESv2(), secretsmanager=self.secrets, smtp=smtplib.SMTP, urlopen=urllib.request.urlopen)

    def test_token_then_xoauth2_then_blind_delivery(self):
        result, _ = run(notifications, sns_event(message("order.confirmed", ["a@canalco.co", "b@canalco.co"],
                                                         order_id="OC-9", supplier="S")), FakeContext(), self.clients)

        self.assertEqual(result, {"sent": 1, "skipped": 0})
        (token_request,) = self.token_server.requests
        self.assertEqual(token_request["path"], "/contoso-tenant/oauth2/v2.0/token")
        self.assertEqual(token_request["form"], {
            "grant_type": ["client_credentials"], "client_id": ["app-id"], "client_secret": ["s3cret"],
            "scope": ["https://outlook.office365.com/.default"],
        })
        self.assertTrue(self.smtp_server.tls_before_auth)
        self.assertEqual(self.smtp_server.authenticated, ["mailer@canalco.example"])
        (mail,) = self.smtp_server.messages
        self.assertEqual(mail["rcpt"], ["a@canalco.co", "b@canalco.co"])
        self.assertNotIn(b"\r\nTo:", mail["data"])

    def test_a_rejected_token_raises_for_a_retry(self):
        self.smtp_server.token = "another"
        with contextlib.redirect_stdout(io.StringIO()), self.assertRaises(smtplib.SMTPAuthenticationError):
            notifications.handler(sns_event(message()), FakeContext(), clients=self.clients)
        self.assertEqual(self.smtp_server.messages, [])


if __name__ == "__main__":
    unittest.main()
