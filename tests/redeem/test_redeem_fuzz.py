"""Fuzzing the redemption form (hypothesis): whatever is typed or posted, the page never fails
with a 500 and never changes a code or a unit."""

from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from audit.models import Action, Event
from codes.models import Code
from tests import factories
from units.models import Unit

ANSWERED = {200, 400, 409, 429}


def snapshot():
    return (
        list(Code.objects.order_by("pk").values_list("pk", "holder_id", "unit_id", "activated_at", "expires_at", "status")),
        list(Unit.objects.order_by("pk").values_list("pk", "is_active", "owner_id", "hardware_id", "name")),
    )


@override_settings(RATELIMIT_ENABLE=False)
class RedeemFormFuzz(TestCase):
    """Without rate limits, so every example reaches the form, the preview and the service."""

    @classmethod
    def setUpTestData(cls):
        provider = factories.provider("Fuzz Telematics")
        customer = factories.customer(provider, "Fuzz Customer")
        cls.admin = factories.user(provider, "admin")
        cls.customer_user = factories.user(customer, "operator")
        cls.unit = factories.unit(customer, actor=cls.admin, hardware_id="356938035643809")
        cls.code = factories.codes(cls.admin, quantity=1)[0]

    def setUp(self):
        self.before = snapshot()
        self.events_before = set(Event.objects.values_list("pk", flat=True))

    def assert_nothing_changed(self):
        self.assertEqual(snapshot(), self.before)
        new_actions = set(Event.objects.exclude(pk__in=self.events_before).values_list("action", flat=True))
        self.assertLessEqual(new_actions, {Action.REDEEM_REFUSED})

    def typed(self):
        """Arbitrary text, or near misses of the real code and hardware id."""
        tricky = st.text(alphabet=st.sampled_from(["\x00", "\u202e", "'", '"', "<", "%", "\\", " ", "-", "9", "é"]), max_size=8)
        return st.one_of(
            st.text(max_size=80),
            tricky,
            st.builds(lambda a, b: a + b, st.sampled_from([self.code.text, self.unit.hardware_id]), tricky),
            st.sampled_from([self.code.text, self.code.display_text.lower(), self.unit.hardware_id]),
            st.builds(lambda a, b: a + b, st.sampled_from([self.code.text, self.unit.hardware_id]), st.text(max_size=5)),
        )

    def post_arbitrary(self, data):
        signed_in = data.draw(st.booleans(), label="signed_in")
        client = Client(REMOTE_ADDR="192.0.2.1")
        if signed_in:
            client.force_login(self.customer_user)
        step = data.draw(st.sampled_from(["check", "confirm", "", "other"]), label="step")
        post = {
            "step": step,
            "code": data.draw(self.typed(), label="code"),
            "hardware_id": data.draw(self.typed(), label="hardware_id"),
            "unit": data.draw(
                st.one_of(st.text(max_size=12), st.integers().map(str), st.just(str(self.unit.pk))), label="unit"
            ),
            "token": data.draw(st.text(max_size=200), label="token"),
        }
        if data.draw(st.booleans(), label="drop_a_field"):
            post.pop(data.draw(st.sampled_from(sorted(post)), label="dropped"))
        return client.post("/redeem/", post)

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_given_arbitrary_input_when_checked_or_confirmed_then_no_500_and_no_change(self, data):
        response = self.post_arbitrary(data)

        self.assertIn(response.status_code, ANSWERED)
        self.assert_nothing_changed()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_given_arbitrary_input_past_the_rate_limit_then_no_500_and_no_change(self, data):
        # Tight limits: most examples take the rate-limited path, which looks the posted code
        # and unit up before any form has validated them.
        with override_settings(
            RATELIMIT_ENABLE=True, KEYLINE_REDEEM_RATE_ADDRESS="2/15m", KEYLINE_REDEEM_RATE_HARDWARE_ID="2/15m"
        ):
            response = self.post_arbitrary(data)

        self.assertIn(response.status_code, ANSWERED)
        self.assert_nothing_changed()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        step=st.sampled_from(["check", "confirm"]),
        code=st.sampled_from(["code.text", "code.display_text"]),
        hardware_id=st.one_of(st.text(max_size=20), st.text(alphabet="\x00 9aZ-", max_size=8)),
        tight=st.booleans(),
    )
    def test_given_a_real_code_with_an_arbitrary_hardware_id_then_no_500_and_no_change(
        self, step, code, hardware_id, tight
    ):
        # A real code makes the page look the unit up, also on the paths that run before the
        # form validates (rate limited, tampered confirmation).
        limits = {"KEYLINE_REDEEM_RATE_ADDRESS": "1/15m"} if tight else {"RATELIMIT_ENABLE": False}
        with override_settings(**limits):
            response = Client(REMOTE_ADDR="192.0.2.2").post(
                "/redeem/",
                {"step": step, "code": getattr(self.code, code.split(".")[1]), "hardware_id": hardware_id, "token": "x"},
            )

        self.assertIn(response.status_code, ANSWERED)
        self.assert_nothing_changed()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(code=st.text(max_size=200))
    def test_given_an_arbitrary_code_in_the_link_when_opened_then_the_page_shows(self, code):
        response = Client().get("/redeem/", {"code": code})

        self.assertEqual(response.status_code, 200)
        self.assert_nothing_changed()

