"""Schemathesis drives every operation of the checked-in schema (docs/openapi.yaml, which
test_schema keeps equal to the code) through Django's WSGI application, with a personal token
and a small network of data, a bounded number of examples per operation: no answer may be a
server error, and every answer must match the schema (status, content type, headers, body)."""

import functools

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS

from codes.services import code_attach, code_share
from tests import factories
from tests.api.test_schema import CHECKED_IN

schema = schemathesis.openapi.from_path(CHECKED_IN)
schema.config.update(base_url="http://localhost")  # the requests go to the WSGI app, in process

# Two checks judge input handling, not answers, and do not fit this API by design:
# - positive_data_acceptance: schema-valid input that the domain still refuses (an account id
#   outside your tree, a code already used, a period none of your batches has) gets 400/404/409;
# - negative_data_rejection: query filters follow django-filter's form semantics, shared with the
#   window's tables: an empty value (`?created_before=`) or an unreadable yes/no means "no filter".
# Every answer is still checked: no 5xx, status documented, body and headers as the schema says.
EXCLUDED = [c for c in CHECKS.get_all() if c.__name__ in {"positive_data_acceptance", "negative_data_rejection"}]

MAX_EXAMPLES = 12


@functools.cache
def _django_app():
    return get_wsgi_application()


def wsgi_app(environ, start_response):
    """Django's WSGI application. Schemathesis's WSGI client sets no client address, which every
    real server does (the redemption rate limits count per address)."""
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    return _django_app()(environ, start_response)


schema.app = wsgi_app


@pytest.fixture
def in_test_transaction():
    """Like Django's test client, keep request signals from closing the connection that holds
    the test's data (and its transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def token(network, api_for):
    """A provider admin (the widest rights) over a network with codes in every state."""
    from cms.authentication import api_token_create

    codes = factories.codes(network.provider_admin, quantity=6)
    unit = factories.unit(network.harvest, actor=network.provider_admin, hardware_id="350000000000009")
    code_attach(code=codes[0], unit=unit, actor=network.provider_admin)
    code_attach(code=codes[1], unit=unit, actor=network.provider_admin)
    code_share(code=codes[2], to_account=network.north, actor=network.provider_admin)
    return api_token_create(user=network.provider_admin, name="schemathesis")[1]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_its_schema_says(case, in_test_transaction, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=EXCLUDED)
