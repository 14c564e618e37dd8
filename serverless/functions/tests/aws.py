"""AWS for the Lambda tests: moto's backends behind real boto3 clients.

The clients are botocore 1.43's: every call is validated against AWS's current API models before
moto answers it, and moto's S3, SQS, Secrets Manager, RDS, STS and SES behave like the services
(GetObject refuses Glacier objects with InvalidObjectState, SES refuses an unverified sender).
Each client records the calls it makes (operation and parameters, as the handler passed them),
and a test can make an operation fail as AWS would, with the error code it names.
"""

import unittest

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID


class Calls:
    """The calls of the clients attached to it: (service, operation, parameters)."""

    def __init__(self):
        self.calls = []

    def attach(self, client):
        service = client.meta.service_model.service_name
        # provide-client-params: the parameters as the caller passed them, before botocore's own
        # handlers turn bodies into streams.
        client.meta.events.register(
            "provide-client-params", lambda params, model, **_: self.calls.append((service, model.name, dict(params)))
        )
        return client

    def to(self, operation):
        return [params for _, name, params in self.calls if name == operation]

    def clear(self):
        self.calls.clear()


def fail(client, operation, code="ServiceUnavailable", when=lambda params: True, status=503):
    """Make operation answer an AWS error response (code, HTTP status) when when(params)."""
    service_id = client.meta.service_model.service_id.hyphenize()

    def remember(params, context, **_):
        context["test_params"] = dict(params)

    def answer(context, **_):
        if when(context.get("test_params", {})):
            error = {"Error": {"Code": code, "Message": "injected by the test"}, "ResponseMetadata": {"HTTPStatusCode": status}}
            return AWSResponse("https://injected.invalid", status, {}, None), error
        return None

    client.meta.events.register(f"before-parameter-build.{service_id}.{operation}", remember)
    client.meta.events.register(f"before-call.{service_id}.{operation}", answer)


class MotoTestCase(unittest.TestCase):
    """Starts moto for each test (after the test's own environment, so moto's fake credentials
    are added to it) and hands out recorded clients."""

    def setUp(self):
        super().setUp()
        self.enterContext(mock_aws())
        self.aws = Calls()

    def client(self, service, **config):
        return self.aws.attach(boto3.client(service, region_name=REGION, config=Config(**config) if config else None))

    @staticmethod
    def sent_emails():
        """What SES (moto) accepted for delivery: simple and raw sends."""
        return ses_backends[ACCOUNT][REGION].sent_messages
