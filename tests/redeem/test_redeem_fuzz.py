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
        return st.one_of(
            st.text(max_size=80),
            st.sampled_from([self.code.text, self.code.display_text.lower(), self.unit.hardware_id]),
            st.builds(lambda a, b: a + b, st.sampled_from([self.code.text, self.unit.hardware_id]), st.text(max_size=5)),
        )

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_given_arbitrary_input_when_checked_or_confirmed_then_no_500_and_no_change(self, data):
        signed_in = data.draw(st.booleans(), label="signed_in")
        client = Client(REMOTE_ADDR="192.0.2.1")
        if signed_in:
            client.force_login(self.customer_user)
        step = data.draw(st.sampled_from(["check", "confirm", "", "other"]), label="step")
        post = {
            "step": step,
            "code": data.draw(self.typed(), label="code"),
            "hardware_id": data.draw(self.typed(), label="hardware_id"),
            "unit": data.draw(st.one_of(st.text(max_size=12), st.just(str(self.unit.pk))), label="unit"),
            "token": data.draw(st.text(max_size=200), label="token"),
        }
        if data.draw(st.booleans(), label="drop_a_field"):
            post.pop(data.draw(st.sampled_from(sorted(post)), label="dropped"))

        response = client.post("/redeem/", post)

        self.assertIn(response.status_code, ANSWERED)
        self.assert_nothing_changed()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(code=st.text(max_size=200))
    def test_given_an_arbitrary_code_in_the_link_when_opened_then_the_page_shows(self, code):
        response = Client().get("/redeem/", {"code": code})

        self.assertEqual(response.status_code, 200)
        self.assert_nothing_changed()
