"""Property-based run of schemathesis against the app's own OpenAPI schema, in process
(WSGI), as an admin with a token: every operation, a few examples each, no 5xx and no
response that breaks the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.specs.openapi.checks import negative_data_rejection, response_schema_conformance

from tests.apiclients import build_world
from tests.factories import AssetFactory, NDAFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose handler closes
    the database connection, and with it the test's transaction on PostgreSQL. Django's
    own test client disconnects it the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(compliance_user, tier1, subvendor, tier1_nda, bumper_asset):
    # Some rows, so that low ids hit real objects as well as 404s.
    build_world(
        supplier=tier1,
        subvendor=subvendor,
        nda=tier1_nda,
        asset=bumper_asset,
        tag="bmt",
        actor=compliance_user,
    )
    build_world(
        supplier=subvendor,
        nda=NDAFactory(supplier=subvendor),
        asset=AssetFactory(),
        tag="sub",
        actor=compliance_user,
    )


@pytest.fixture
def admin_token(seeded, admin_user):
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=admin_user).key


@pytest.fixture
def supplier_token(seeded, supplier_user):
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=supplier_user).key


def _load_schema():
    # Schema generation needs no database: pytest-django has configured Django by now.
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


schema = _load_schema()


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api_conforms_to_its_schema(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api_conforms_for_a_supplier_user(case, supplier_token):
    # The scoped paths (404s, 403s, hidden agreements) must hold to the schema as well.
    case.call_and_validate(
        headers={"Authorization": f"Token {supplier_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


# --- Data the schema forbids --------------------------------------------------------------
# Every operation with bodies, query strings and path parameters that break the schema:
# each must be refused with a 4xx (negative_data_rejection), never a 5xx.

negative = _load_schema()
negative.config.generation.update(modes=[GenerationMode.NEGATIVE])


@negative.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "supplier"])
def test_api_refuses_what_its_schema_forbids(case, who, admin_token, supplier_token):
    token = admin_token if who == "admin" else supplier_token
    checks = [not_a_server_error]
    if case.media_type != "multipart/form-data":
        # A form field is text: the "null" or "1" schemathesis sends there as a wrong
        # type arrives as the string it reads, which is valid. JSON bodies and query
        # strings carry their types.
        checks.append(negative_data_rejection)
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=checks)


# --- Sequences of calls -------------------------------------------------------------------
# The stateful phase: schemathesis chains operations through the links it infers (a
# created supplier's id into its detail, update and delete, and so on).


def _run_stateful(token: str) -> None:
    # Without the pool of constants schemathesis reads out of the loaded Python modules:
    # it grows as other tests import modules, and hypothesis then finds the generation
    # inconsistent between runs of the same sequence.
    machine = _load_schema().build_state_machine(feedback=FeedbackSources(), link_calibration=None)

    class Workflow(machine):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

    Workflow.run(
        settings=settings(
            max_examples=10,
            stateful_step_count=6,
            # No shrinking: a failure is reported as found (replaying a sequence against a
            # database the earlier steps changed is not deterministic).
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


@pytest.mark.django_db
def test_call_sequences_as_admin(admin_token):
    _run_stateful(admin_token)


@pytest.mark.django_db
def test_call_sequences_as_a_supplier_user(supplier_token):
    _run_stateful(supplier_token)
