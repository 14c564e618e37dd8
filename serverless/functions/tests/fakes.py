"""Test support: load a handler by path, capture its logs, and fake what moto (tests/aws.py)
does not provide.

Fakes here, each for what moto 5.2.1 lacks:
  * FakeSESv2: SES v2 templates (moto's templated SendEmail raises NotImplementedError): it
    renders the project's templates as SES does and refuses a missing variable; any other send
    goes to the moto client it wraps.
  * FakeBackup: AWS Backup's restore jobs and validation results (moto's Backup has plans and
    vaults only).
  * FakeSMTP: Microsoft 365's SMTP server, which is not AWS.
  * FakeRDS: kept for tests/test_restore_check.py only.
Every call to a fake is validated against botocore's current model of the operation (the same
check a boto3 client makes before sending), so a call AWS would refuse fails here too.
"""

import contextlib
import functools
import importlib.util
import io
import json
import pathlib
import re
import ssl
import sys


import botocore.exceptions
import botocore.session
import botocore.validate

FUNCTIONS_DIR = pathlib.Path(__file__).resolve().parent.parent
# The SES templates the Pulumi program registers (serverless/email.go embeds the same files).
TEMPLATES_DIR = FUNCTIONS_DIR.parent / "templates"
# Each package holds the shared modules beside its handler; here they are imported from shared/.
sys.path.insert(0, str(FUNCTIONS_DIR / "shared"))


def load_handler(function):
    """Import <function>/handler.py under a unique module name, its own modules beside it."""
    folder = str(FUNCTIONS_DIR / function)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"{function}_handler", FUNCTIONS_DIR / function / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(handler_module, event, context=None, clients=None):
    """Call the handler; return (result, log lines parsed as JSON)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = handler_module.handler(event, context, clients=clients)
    return result, [json.loads(line) for line in out.getvalue().splitlines()]


def metrics(lines):
    """Metric values of the EMF lines, checking each line's EMF envelope."""
    values = {}
    for line in lines:
        if "_aws" not in line:
            continue
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Dimensions"] == [["Environment"]], directive
        for metric in directive["Metrics"]:
            values[metric["Name"]] = line[metric["Name"]]
        values["_namespace"], values["_environment"] = directive["Namespace"], line["Environment"]
    return values


@functools.cache
def service_model(service):
    """botocore's model of an AWS service (its service-2.json)."""
    return botocore.session.get_session().get_service_model(service)


def validate_call(service, operation, params):
    """Raise botocore's ParamValidationError when params do not fit the operation's input
    shape, exactly as a boto3 client does before sending the request."""
    model = service_model(service)
    assert operation in model.operation_names, f"{service} has no operation {operation}"
    botocore.validate.validate_parameters(params, model.operation_model(operation).input_shape)


class FakeClientError(botocore.exceptions.ClientError):
    """botocore's ClientError, as a client raises it for an error response."""

    def __init__(self, code, operation, message=""):
        super().__init__({"Error": {"Code": code, "Message": message}}, operation)


class FakeContext:
    def __init__(self, aws_request_id="req-1", remaining_ms=lambda: 900_000):
        self.aws_request_id = aws_request_id
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self._remaining_ms()


class _Recorder:
    """Records calls as (operation, kwargs) after validating them against the service model;
    fail_when[operation](kwargs) -> raise ServiceUnavailable."""

    service = ""  # botocore's service name

    def __init__(self):
        # Without a service no call could be checked against botocore's models.
        service_model(self.service)  # UnknownServiceError for a missing or misspelt name
        self.calls = []
        self.fail_when = {}

    def _record(self, operation, kwargs):
        validate_call(self.service, operation, kwargs)
        self.calls.append((operation, kwargs))
        should_fail = self.fail_when.get(operation)
        if should_fail and should_fail(kwargs):
            raise FakeClientError("ServiceUnavailable", operation)

    def calls_to(self, operation):
        return [kwargs for name, kwargs in self.calls if name == operation]


def project_templates():
    """The SES templates of serverless/templates by name: {"subject", "html", "text"}."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(TEMPLATES_DIR.glob("*.json"))}


# Handlebars as SES uses it in the project's templates: {{path}}, {{{path}}} and unnested
# {{#if path}}...{{/if}} blocks.
_IF_BLOCK = re.compile(r"\{\{#if\s+([\w.]+)\s*\}\}(.*?)\{\{/if\}\}", re.DOTALL)
_IF_CONDITION = re.compile(r"\{\{#if\s+([\w.]+)\s*\}\}")
_VARIABLE = re.compile(r"\{\{\{?\s*([\w.]+)\s*\}?\}\}")


def template_variables(text):
    """Every variable a template part uses, the {{#if}} conditions included."""
    return set(_VARIABLE.findall(text)) | set(_IF_CONDITION.findall(text))


class RenderingFailure(Exception):
    """SES could not render the template: the email is not sent."""


def _lookup(data, path):
    value = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def render(text, data):
    """Render a template part as SES does: a missing variable is a rendering failure, and values
    go into the HTML part unescaped (SES Developer Guide, "Advanced email personalization":
    "SES doesn't escape HTML content when rendering the HTML template")."""

    def condition(match):
        try:
            shown = bool(_lookup(data, match.group(1)))
        except KeyError:
            shown = False  # Handlebars' {{#if}} reads a missing value as false
        return match.group(2) if shown else ""

    def value(match):
        try:
            return str(_lookup(data, match.group(1)))
        except KeyError:
            raise RenderingFailure(f"Attribute '{match.group(1)}' is not present in the rendering data.") from None

    return _VARIABLE.sub(value, _IF_BLOCK.sub(condition, text))


class FakeSESv2(_Recorder):
    """SES v2. A templated SendEmail succeeds like SES's, but the message is only delivered
    (.delivered) when the template renders; otherwise SES publishes a Rendering Failure event
    (.events) and sends nothing (SES knowledge center, "ses-sendtemplatedemail-delivery-failure").
    templates maps template names to {"subject", "html", "text"}; by default the project's
    templates answer to any name ending in -<template>. Sends without a template go to client
    (moto's SES v2) when one is given."""

    service = "sesv2"

    def __init__(self, templates=None, client=None):
        super().__init__()
        self.templates = templates
        self.client = client
        self.delivered = []  # {"destination", "subject", "html", "text"} per email sent
        self.events = []  # SES event records published to the configuration set's destinations

    def _template(self, name):
        if self.templates is not None:
            return self.templates.get(name)
        for short, template in project_templates().items():
            if name == short or name.endswith("-" + short):
                return template
        return None

    def send_email(self, **kwargs):
        self._record("SendEmail", kwargs)
        message_id = f"msg-{len(self.calls)}"
        content = kwargs["Content"]
        if "Template" in content:
            template = self._template(content["Template"]["TemplateName"])
            if template is None:
                raise FakeClientError("NotFoundException", "SendEmail", "Template does not exist")
            data = json.loads(content["Template"]["TemplateData"])
            try:
                rendered = {part: render(template[part], data) for part in ("subject", "html", "text")}
            except RenderingFailure as exc:
                self.events.append({"eventType": "Rendering Failure", "mail": {"messageId": message_id},
                                    "failure": {"errorMessage": str(exc), "templateName": content["Template"]["TemplateName"]}})
                return {"MessageId": message_id}
        elif self.client is not None:
            return self.client.send_email(**kwargs)
        else:
            simple = content.get("Simple", {})
            rendered = {"subject": simple.get("Subject", {}).get("Data", ""),
                        "html": simple.get("Body", {}).get("Html", {}).get("Data", ""),
                        "text": simple.get("Body", {}).get("Text", {}).get("Data", "")}
        self.delivered.append(dict(rendered, destination=kwargs["Destination"]))
        return {"MessageId": message_id}


class FakeSMTP:
    """Factory standing for smtplib.SMTP; every connection logs its steps in .events."""

    def __init__(self, login_error=None):
        self.login_error = login_error
        self.events = []
        self.sent = []

    def __call__(self, host, port, timeout=None):
        self.events.append(("connect", host, port))
        return _FakeSMTPConnection(self)


class _FakeSMTPConnection:
    def __init__(self, factory):
        self.factory = factory
        self.tls = self.authenticated = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.factory.events.append(("quit",))

    def starttls(self, context=None):
        assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname, (
            "STARTTLS must verify the server certificate"
        )
        self.tls = True
        self.factory.events.append(("starttls",))

    def login(self, user, password):
        assert self.tls, "login before STARTTLS would send the password in clear"
        self.factory.events.append(("login", user, password))
        if self.factory.login_error:
            raise self.factory.login_error
        self.authenticated = True

    def ehlo(self, name=""):
        self.factory.events.append(("ehlo",))

    def auth(self, mechanism, authobject, initial_response_ok=True):
        assert self.tls, "AUTH before STARTTLS would send the token in clear"
        self.factory.events.append(("auth", mechanism, authobject()))
        if self.factory.login_error:
            authobject("error challenge")  # the server's 334 error, answered before its 535
            raise self.factory.login_error
        self.authenticated = True

    def send_message(self, message, from_addr=None, to_addrs=None):
        assert self.authenticated
        self.factory.events.append(("send",) if to_addrs is None else ("send", list(to_addrs)))
        self.factory.sent.append(message)


# --- Recovery: AWS Backup and RDS. ---


class FakeBackup(_Recorder):
    """AWS Backup's restore jobs and recovery points."""

    service = "backup"

    def __init__(self, jobs=(), recovery_points=None):
        super().__init__()
        self.jobs = {job["RestoreJobId"]: job for job in jobs}
        self.recovery_points = recovery_points or {}  # (vault, arn) -> creation date
        self.page_size = 2

    def describe_restore_job(self, **kwargs):
        self._record("DescribeRestoreJob", kwargs)
        return dict(self.jobs[kwargs["RestoreJobId"]])

    def describe_recovery_point(self, **kwargs):
        self._record("DescribeRecoveryPoint", kwargs)
        return {"CreationDate": self.recovery_points[(kwargs["BackupVaultName"], kwargs["RecoveryPointArn"])]}

    def put_restore_validation_result(self, **kwargs):
        self._record("PutRestoreValidationResult", kwargs)
        return {}

    def list_restore_jobs(self, **kwargs):
        self._record("ListRestoreJobs", kwargs)
        jobs = [
            j for j in self.jobs.values()
            if j["Status"] == kwargs["ByStatus"] and j["CompletionDate"] > kwargs["ByCompleteAfter"]
        ]
        start = int(kwargs.get("NextToken", "0"))
        page = {"RestoreJobs": jobs[start:start + self.page_size]}
        if start + self.page_size < len(jobs):
            page["NextToken"] = str(start + self.page_size)
        return page
