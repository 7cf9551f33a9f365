"""The redemption page's confirmation step (`redeem_preview`) and the redemption itself
(`code_redeem`) cannot disagree: over random worlds (codes shared, applied, queued, released,
revoked, lapsed or run out, units of several owners and of a rival provider, the clock moved) and
random attempts (who asks, which code in which typing, which hardware id), the preview's answer is
the redemption's: the same refusal, or the same start, end and queue position on the same unit.

Each example builds its world through the services inside its own transaction, rolled back after
(`hypothesis.extra.django.TestCase`); the redemption runs inside a savepoint the test rolls back,
so the preview and the redemption see the same world.
"""

from collections import Counter
from datetime import timedelta

import time_machine
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from cms.actors import ANONYMOUS
from cms.errors import DomainError
from codes import text as code_text
from codes.models import Code, CodeState
from codes.services import (
    code_attach,
    code_redeem,
    code_release,
    code_revoke,
    code_share,
    codes_expire_due,
    redeem_preview,
)
from tests import factories
from tests.conftest import examples
from tests.domain.support import DAY, T0, build_network

CODES = 6
OUTCOMES: Counter = Counter()
#: Units: two of Harvest Co (a customer of North Farms Dealer), one of North Farms Dealer, one of
#: South Rentals, and one of the rival provider with the same hardware id as Harvest's first.
UNIT_OWNERS = ["harvest", "harvest", "north_farms", "south_rentals", "rival_customer"]
HARDWARE_IDS = ["351000000000001", "351000000000002", "351000000000003", "351000000000004", "351000000000001"]
ACTORS = ["anonymous", "harvest_user", "farms_operator", "harvest_viewer", "rival_admin"]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("share"), st.integers(0, CODES - 1), st.sampled_from(["north", "north_farms", "harvest", "south"])),
        st.tuples(st.just("attach"), st.integers(0, CODES - 1), st.integers(0, 3)),
        st.tuples(st.just("release"), st.integers(0, CODES - 1), st.just(0)),
        st.tuples(st.just("revoke"), st.integers(0, CODES - 1), st.just(0)),
        st.tuples(st.just("days"), st.integers(1, 12), st.just(0)),
        st.tuples(st.just("job"), st.just(0), st.just(0)),
    ),
    max_size=16,
)
attempts = st.tuples(
    st.sampled_from(ACTORS),
    st.sampled_from([*range(CODES), "unknown", "mistyped"]),
    st.sampled_from(["canonical", "grouped", "sloppy"]),
    st.one_of(st.integers(0, len(UNIT_OWNERS) - 1), st.just("unknown")),
)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], RATELIMIT_ENABLE=False)
class TestThePreviewAndTheRedemptionAgree(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.net = build_network()

    def build(self, world_steps, traveller):
        net = self.net
        codes = factories.codes(net.provider_admin, quantity=CODES // 2, period_days=10)
        codes += factories.codes(net.provider_admin, quantity=CODES - CODES // 2, period_days=5,
                                 use_by=(T0 + 3 * DAY).date())
        units = [
            factories.unit(getattr(net, owner), actor=net.rival_admin if owner == "rival_customer" else net.provider_admin,
                           hardware_id=hardware_id)
            for owner, hardware_id in zip(UNIT_OWNERS, HARDWARE_IDS, strict=True)
        ]
        # Every state from the start (a running and a queued code, a released one, a revoked one, one
        # shared down); the random steps and the clock take it from there.
        start = [("attach", 0, 0), ("attach", 1, 0), ("attach", 2, 1), ("release", 2, 0), ("revoke", 3, 0),
                 ("share", 4, "north_farms")]
        now = T0
        for step, a, b in start + world_steps:
            try:
                if step == "share":
                    code_share(code=codes[a], to_account=getattr(net, b), actor=net.provider_admin)
                elif step == "attach":
                    code_attach(code=codes[a], unit=units[b], actor=net.provider_admin)
                elif step == "release":
                    code_release(code=codes[a], actor=net.provider_admin)
                elif step == "revoke":
                    code_revoke(code=codes[a], actor=net.provider_admin)
                elif step == "days":
                    now += timedelta(days=a)
                    traveller.move_to(now)
                elif step == "job":
                    codes_expire_due()
            except DomainError:
                pass  # a refused step leaves the world as it was: the next one goes on
        return codes, units

    def typed(self, codes, which, typing) -> str:
        if which == "unknown":
            return code_text.display(code_text.generate())
        if which == "mistyped":
            text = Code.objects.get(pk=codes[0].pk).text
            return text[:-1] + ("1" if text[-1] != "1" else "2")
        text = codes[which].text
        if typing == "grouped":
            return code_text.display(text)
        if typing == "sloppy":
            return " " + code_text.display(text).lower().replace("1", "l").replace("0", "o") + " "
        return text

    @settings(max_examples=examples(150), suppress_health_check=[HealthCheck.too_slow])
    @given(world_steps=steps, attempt=attempts)
    def test_the_preview_answers_what_the_redemption_then_does(self, world_steps, attempt):
        with time_machine.travel(T0, tick=False) as traveller:
            codes, units = self.build(world_steps, traveller)
            who, which, typing, unit_index = attempt
            actor = ANONYMOUS if who == "anonymous" else getattr(self.net, who)
            typed = self.typed(codes, which, typing)
            hardware_id = "359999999999999" if unit_index == "unknown" else units[unit_index].hardware_id.lower()

            try:
                preview = redeem_preview(code_text_typed=typed, hardware_id=hardware_id, actor=actor)
                previewed = ("redeemed", preview.unit.pk, preview.starts_at, preview.ends_at, preview.scheduled)
            except DomainError as refusal:
                previewed = ("refused", refusal.code)

            with transaction.atomic():
                try:
                    code = code_redeem(code_text=typed, hardware_id=hardware_id, actor=actor)
                    done = ("redeemed", code.unit_id, code.activated_at, code.expires_at,
                            code.status == CodeState.SCHEDULED)
                except DomainError as refusal:
                    done = ("refused", refusal.code)
                transaction.set_rollback(True)

        OUTCOMES[previewed[1] if previewed[0] == "refused" else "redeemed"] += 1
        assert previewed == done

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        # The worlds must reach the interesting answers, not only the easy refusals.
        reached = {outcome for outcome, count in OUTCOMES.items() if count >= 3}
        wanted = {
            "redeemed", "code_not_valid", "code_mistyped", "code_already_used", "code_expired", "unit_covered",
            "unit_not_eligible", "permission_denied",
        }
        assert wanted <= reached, sorted(OUTCOMES.items())
