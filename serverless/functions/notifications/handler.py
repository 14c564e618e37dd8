"""Send Canalco notification e-mails for domain events.

Triggers:
  * SNS topic of domain events: every ``Records[].Sns.Message`` is a JSON string
    ``{"type": ..., "recipients": ["a@b.co"], "data": {...template fields...}}``.
  * EventBridge Scheduler: the event itself is such a message, e.g.
    ``{"source": "canalco.schedule", "type": "summary.scheduled", ...}``.

The type selects the template ``${TEMPLATE_PREFIX}<name>`` (TEMPLATES). With
EMAIL_TRANSPORT=ses (default) it is sent as an SES template; with
EMAIL_TRANSPORT=smtp the same template is rendered here from SMTP_CONTENT and
sent over SMTP with STARTTLS, with credentials read once per container from the
Secrets Manager secret SMTP_SECRET_ARN ({"host", "port", "username", "password"}).

Failure contract: a malformed message (bad JSON, unknown type, no valid
recipient, more than 50 recipients) is logged and skipped without affecting the
other records; a send error (SES throttling, 5xx, SMTP error) is raised so that
Lambda retries the asynchronous invocation and finally hands the event to the
on-failure destination.
"""

import dataclasses
import functools
import json
import os
import re
import smtplib
import ssl
import types
from email.message import EmailMessage

import telemetry  # shared/telemetry.py, packaged beside this handler

TEMPLATES = {
    "requisition.created": "requisicion-creada",
    "approval.requested": "aprobacion-pendiente",
    "order.confirmed": "orden-confirmada",
    "summary.scheduled": "reporte-programado",
    "system.alert": "alerta-sistema",
}

# (subject, plain-text body) per template for EMAIL_TRANSPORT=smtp. The
# {{field}} placeholders are the TemplateData fields the SES templates use.
SMTP_CONTENT = {
    "requisicion-creada": (
        "Nueva requisición {{requisition_id}}",
        "Hola,\n\n{{requester}} creó la requisición {{requisition_id}}: {{title}}.\n\n"
        "Consúltala en {{url}}\n",
    ),
    "aprobacion-pendiente": (
        "Aprobación pendiente: requisición {{requisition_id}}",
        "Hola,\n\nLa requisición {{requisition_id}} ({{title}}) de {{requester}} "
        "espera tu aprobación.\n\nRevísala en {{url}}\n",
    ),
    "orden-confirmada": (
        "Orden de compra {{order_id}} confirmada",
        "Hola,\n\nLa orden de compra {{order_id}} de la requisición {{requisition_id}} "
        "fue confirmada por {{supplier}}.\n\nConsúltala en {{url}}\n",
    ),
    "reporte-programado": (
        "Reporte {{report}}{{#if from}} del {{from}} al {{to}}{{/if}}",
        "Hola,\n\nTu reporte {{report}}{{#if from}} del {{from}} al {{to}}{{/if}} está listo"
        "{{#if rows}} ({{rows}} filas){{/if}}.\n\n"
        "Ábrelo en {{url}}{{#if expires_hours}} (el enlace vence en {{expires_hours}} horas){{/if}}.\n",
    ),
    "alerta-sistema": (
        "[Canalco] Alerta: {{title}}",
        "{{message}}\n\nAmbiente: {{environment}}\n",
    ),
}

MAX_RECIPIENTS = 50
SMTP_TIMEOUT_SECONDS = 15
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_CONDITIONAL = re.compile(r"\{\{#if\s+(\w+)\s*\}\}(.*?)\{\{/if\}\}", re.DOTALL)  # Handlebars' {{#if}}, unnested
_smtp_secrets = {}  # SMTP_SECRET_ARN -> secret, read once per container


class InvalidMessage(ValueError):
    """A message that can never be delivered: logged and skipped."""


@dataclasses.dataclass(frozen=True)
class Message:
    type: str
    template: str
    recipients: list
    data: dict


@dataclasses.dataclass(frozen=True)
class Settings:
    sender: str
    configuration_set: str
    template_prefix: str
    transport: str
    smtp_secret_arn: str

    @classmethod
    def from_env(cls):
        settings = cls(
            sender=os.environ["SENDER"],
            configuration_set=os.environ.get("CONFIGURATION_SET", ""),
            template_prefix=os.environ.get("TEMPLATE_PREFIX", ""),
            transport=os.environ.get("EMAIL_TRANSPORT", "ses"),
            smtp_secret_arn=os.environ.get("SMTP_SECRET_ARN", ""),
        )
        if settings.transport not in ("ses", "smtp"):
            raise ValueError(f"EMAIL_TRANSPORT must be 'ses' or 'smtp', not {settings.transport!r}")
        if settings.transport == "smtp" and not settings.smtp_secret_arn:
            raise ValueError("SMTP_SECRET_ARN is required with EMAIL_TRANSPORT=smtp")
        return settings


@functools.cache
def _default_clients():
    import boto3

    return types.SimpleNamespace(
        sesv2=boto3.client("sesv2"), secretsmanager=boto3.client("secretsmanager"), smtp=smtplib.SMTP
    )


def handler(event, context, clients=None):
    clients = clients or _default_clients()
    settings = Settings.from_env()
    sent = skipped = 0
    try:
        for raw in _raw_messages(event):
            try:
                message = _parse_message(raw)
            except InvalidMessage as exc:
                skipped += 1
                telemetry.log("WARNING", "message skipped", reason=str(exc))
                continue
            _send(message, settings, clients)
            sent += 1
    finally:
        telemetry.emit_metrics({"EmailsSent": sent})
    return {"sent": sent, "skipped": skipped}


def _raw_messages(event):
    """SNS record messages, or the scheduler event itself."""
    if isinstance(event, dict) and "Records" in event:
        return [(record.get("Sns") or {}).get("Message") for record in event["Records"]]
    return [event]


def _parse_message(raw):
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidMessage("message is not valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidMessage("message is not a JSON object")
    event_type = raw.get("type")
    if not isinstance(event_type, str) or event_type not in TEMPLATES:
        raise InvalidMessage(f"unknown type {event_type!r}")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise InvalidMessage("data is not a JSON object")
    return Message(event_type, TEMPLATES[event_type], _valid_recipients(raw.get("recipients")), data)


def _valid_recipients(recipients):
    if not isinstance(recipients, list):
        raise InvalidMessage("recipients is not a list")
    valid = list(dict.fromkeys(r.strip() for r in recipients if isinstance(r, str) and _is_email(r.strip())))
    if len(valid) < len(recipients):
        telemetry.log("WARNING", "invalid or duplicate recipients dropped", dropped=len(recipients) - len(valid))
    if not valid:
        raise InvalidMessage("no valid recipient")
    if len(valid) > MAX_RECIPIENTS:
        raise InvalidMessage(f"{len(valid)} recipients, at most {MAX_RECIPIENTS} allowed")
    return valid


def _is_email(value):
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def _send(message, settings, clients):
    if settings.transport == "smtp":
        _send_smtp(message, settings, clients)
    else:
        _send_ses(message, settings, clients.sesv2)
    telemetry.log(
        "INFO",
        "email sent",
        type=message.type,
        template=message.template,
        recipients=len(message.recipients),
        transport=settings.transport,
    )


def _send_ses(message, settings, sesv2):
    request = {
        "FromEmailAddress": settings.sender,
        "Destination": {"ToAddresses": message.recipients},
        "Content": {
            "Template": {
                "TemplateName": settings.template_prefix + message.template,
                "TemplateData": json.dumps(message.data),
            }
        },
    }
    if settings.configuration_set:
        request["ConfigurationSetName"] = settings.configuration_set
    sesv2.send_email(**request)


def _send_smtp(message, settings, clients):
    secret = _smtp_secret(settings.smtp_secret_arn, clients.secretsmanager)
    email = _render_email(message, settings.sender)
    try:
        with clients.smtp(secret["host"], int(secret["port"]), timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.starttls(context=ssl.create_default_context())
            smtp.login(secret["username"], secret["password"])
            smtp.send_message(email)
    except smtplib.SMTPAuthenticationError:
        _smtp_secrets.pop(settings.smtp_secret_arn, None)  # re-read a rotated password on retry
        raise


def _smtp_secret(arn, secretsmanager):
    if arn not in _smtp_secrets:
        _smtp_secrets[arn] = json.loads(secretsmanager.get_secret_value(SecretId=arn)["SecretString"])
    return _smtp_secrets[arn]


def _render_email(message, sender):
    subject, text = SMTP_CONTENT[message.template]
    email = EmailMessage()
    email["From"] = sender
    email["To"] = ", ".join(message.recipients)
    email["Subject"] = " ".join(_render(subject, message.data).split())  # one line: no header injection
    email.set_content(_render(text, message.data))
    return email


def _render(template, data):
    shown = _CONDITIONAL.sub(lambda match: match.group(2) if data.get(match.group(1)) else "", template)
    return _PLACEHOLDER.sub(lambda match: str(data.get(match.group(1), "")), shown)

