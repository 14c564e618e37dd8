"""Send Canalco notification e-mails for domain events.

Triggers:
  * SNS topic of domain events: every ``Records[].Sns.Message`` is a JSON string
    ``{"type": ..., "recipients": ["a@b.co"], "data": {...template fields...}}``.
  * EventBridge Scheduler: the event itself is such a message, e.g.
    ``{"source": "canalco.schedule", "type": "summary.scheduled", ...}``.

The type selects the template ``${TEMPLATE_PREFIX}<name>`` (TEMPLATES). With
EMAIL_TRANSPORT=ses (default) it is sent as an SES template; with
EMAIL_TRANSPORT=smtp the same template is rendered here from SMTP_CONTENT and
sent over SMTP with STARTTLS and OAuth2 (XOAUTH2, Microsoft 365): the Secrets
Manager secret SMTP_SECRET_ARN holds {"host", "port", "username", "tenant_id",
"client_id", "client_secret"}, read once per container; the access token comes
from the Microsoft identity platform's client-credentials flow and is reused
until shortly before it expires.

Every email gets every variable its template uses (TEMPLATE_FIELDS; a field
the message lacks is sent empty), because SES accepts a send whose template
data misses a variable and then silently drops it as a rendering failure.
Recipients are blind copies: no one sees who else received the email. SES
does not escape template data in the HTML part, so the HTML part reads the
escaped copies under ``html.<field>``; a link that is not https on the app's
own host (APP_URL) is replaced by the app's address.

Failure contract: a malformed message (bad JSON, unknown type, no valid
recipient, more than 50 recipients) is logged and skipped without affecting the
other records; a send error (SES throttling, 5xx, SMTP error) is raised so that
Lambda retries the asynchronous invocation and finally hands the event to the
on-failure destination.
"""

import dataclasses
import functools
import html
import json
import os
import re
import smtplib
import ssl
import time
import types
import urllib.parse
import urllib.request
from email.message import EmailMessage

import telemetry  # shared/telemetry.py, packaged beside this handler

TEMPLATES = {
    "requisition.created": "requisicion-creada",
    "approval.requested": "aprobacion-pendiente",
    "order.confirmed": "orden-confirmada",
    "summary.scheduled": "reporte-programado",
    "system.alert": "alerta-sistema",
}

# The fields each template uses, from the message's data; a test checks them against the
# templates the Pulumi program registers (serverless/templates). environment is the stack's.
TEMPLATE_FIELDS = {
    "requisicion-creada": ("requisition_id", "title", "requester", "url"),
    "aprobacion-pendiente": ("requisition_id", "title", "requester", "url"),
    "orden-confirmada": ("order_id", "requisition_id", "supplier", "url"),
    "reporte-programado": ("report", "from", "to", "rows", "url", "expires_hours"),
    "alerta-sistema": ("title", "message", "environment"),
}
# Fields that are links: only https on the app's host goes out.
LINK_FIELDS = ("url",)

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
# Microsoft identity platform: client-credentials token for SMTP AUTH (Exchange Online).
TOKEN_AUTHORITY = "https://login.microsoftonline.com"
SMTP_OAUTH_SCOPE = "https://outlook.office365.com/.default"
TOKEN_MARGIN_SECONDS = 300  # renew a token this long before it expires
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_CONDITIONAL = re.compile(r"\{\{#if\s+(\w+)\s*\}\}(.*?)\{\{/if\}\}", re.DOTALL)  # Handlebars' {{#if}}, unnested
_smtp_secrets = {}  # SMTP_SECRET_ARN -> secret, read once per container
_tokens = {}  # (tenant_id, client_id) -> (access token, expiry as time.time())


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
    environment: str = ""
    app_url: str = ""

    @classmethod
    def from_env(cls):
        settings = cls(
            sender=os.environ["SENDER"],
            configuration_set=os.environ.get("CONFIGURATION_SET", ""),
            template_prefix=os.environ.get("TEMPLATE_PREFIX", ""),
            transport=os.environ.get("EMAIL_TRANSPORT", "ses"),
            smtp_secret_arn=os.environ.get("SMTP_SECRET_ARN", ""),
            environment=os.environ.get("ENVIRONMENT", ""),
            app_url=os.environ.get("APP_URL", ""),
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
        sesv2=boto3.client("sesv2"),
        secretsmanager=boto3.client("secretsmanager"),
        smtp=smtplib.SMTP,
        urlopen=urllib.request.urlopen,
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


def template_data(message, settings):
    """The template data of a message: every field its template uses (missing ones empty),
    links checked, and the HTML-escaped copies the HTML part reads under "html"."""
    data = {field: message.data.get(field, "") for field in TEMPLATE_FIELDS[message.template]}
    if "environment" in data:
        data["environment"] = settings.environment
    for field in LINK_FIELDS:
        if field in data and not _is_app_link(data[field], settings.app_url):
            if data[field]:
                telemetry.log("WARNING", "link replaced by the app's address", field=field, template=message.template)
            data[field] = settings.app_url
    data["html"] = {field: html.escape(str(value), quote=True) for field, value in data.items()}
    return data


def _is_app_link(value, app_url):
    """An https URL on the app's own host (no credentials, no other port)."""
    if not isinstance(value, str) or not app_url:
        return False
    link, app = urllib.parse.urlsplit(value), urllib.parse.urlsplit(app_url)
    return link.scheme == "https" and link.netloc.lower() == app.netloc.lower() and "@" not in link.netloc


def _send_ses(message, settings, sesv2):
    request = {
        "FromEmailAddress": settings.sender,
        # Blind copies: the recipients never see each other's addresses.
        "Destination": {"BccAddresses": message.recipients},
        "Content": {
            "Template": {
                "TemplateName": settings.template_prefix + message.template,
                "TemplateData": json.dumps(template_data(message, settings)),
            }
        },
    }
    if settings.configuration_set:
        request["ConfigurationSetName"] = settings.configuration_set
    sesv2.send_email(**request)


def _send_smtp(message, settings, clients):
    secret = _smtp_secret(settings.smtp_secret_arn, clients.secretsmanager)
    email = _render_email(message, settings)
    try:
        with clients.smtp(secret["host"], int(secret["port"]), timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
            auth = xoauth2_string(secret["username"], _access_token(secret, clients))
            # smtplib base64-encodes the string; on a 334 error challenge it answers empty,
            # which ends the exchange with the server's 535.
            smtp.auth("XOAUTH2", lambda challenge=None: auth if challenge is None else "")
            smtp.send_message(email, to_addrs=message.recipients)
    except smtplib.SMTPAuthenticationError:
        # Re-read a changed client secret and fetch a new token on the retry.
        secret = _smtp_secrets.pop(settings.smtp_secret_arn, None) or {}
        _tokens.pop((secret.get("tenant_id"), secret.get("client_id")), None)
        raise


def xoauth2_string(user, token):
    """The SASL XOAUTH2 initial response, before base64 (Microsoft: "Authenticate an IMAP,
    POP or SMTP connection using OAuth")."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def _access_token(secret, clients):
    """A client-credentials access token for SMTP AUTH, cached until shortly before expiry."""
    key = (secret["tenant_id"], secret["client_id"])
    token, expires = _tokens.get(key, (None, 0))
    if token and time.time() < expires - TOKEN_MARGIN_SECONDS:
        return token
    body = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_id": secret["client_id"],
        "client_secret": secret["client_secret"],
        "scope": SMTP_OAUTH_SCOPE,
    }).encode()
    url = f"{TOKEN_AUTHORITY}/{urllib.parse.quote(secret['tenant_id'])}/oauth2/v2.0/token"
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    with getattr(clients, "urlopen", urllib.request.urlopen)(request, timeout=SMTP_TIMEOUT_SECONDS) as response:
        answer = json.load(response)
    _tokens[key] = (answer["access_token"], time.time() + int(answer.get("expires_in", 0)))
    return answer["access_token"]


def _smtp_secret(arn, secretsmanager):
    if arn not in _smtp_secrets:
        _smtp_secrets[arn] = json.loads(secretsmanager.get_secret_value(SecretId=arn)["SecretString"])
    return _smtp_secrets[arn]


def _render_email(message, settings):
    subject, text = SMTP_CONTENT[message.template]
    data = template_data(message, settings)
    email = EmailMessage()
    email["From"] = settings.sender
    # No To header: the recipients are envelope recipients only, blind to each other.
    email["Subject"] = " ".join(_render(subject, data).split())  # one line: no header injection
    email.set_content(_render(text, data))
    return email


def _render(template, data):
    shown = _CONDITIONAL.sub(lambda match: match.group(2) if data.get(match.group(1)) else "", template)
    return _PLACEHOLDER.sub(lambda match: str(data[match.group(1)]), shown)

