"""The report shows every change of accounts, users, invitations, tokens and notices, every sign-in
and every lock-out: a walk through the product's own pages does each once, then the report, one
action at a time, lists it for the admin whose branch it concerns, and for nobody outside it."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import Action
from cms.models import Account, ApiToken, User
from codes.models import ExpiryNotice
from tests.domain.support import last_event_id
from tests.factories import PASSWORD

URL = reverse("report:list")
GOOD = "blue-tractor-meadow-42"
BETTER = "green-harvest-orchard-17"

#: The changes the walk makes, each once at least.
WALKED = [
    Action.ACCOUNT_CREATED, Action.ACCOUNT_RENAMED, Action.ACCOUNT_MOVED, Action.ACCOUNT_CHANGED,
    Action.ACCOUNT_DISABLED, Action.ACCOUNT_ENABLED,
    Action.USER_CREATED, Action.USER_CHANGED, Action.USER_ROLE_CHANGED, Action.USER_PASSWORD_SET,
    Action.USER_DISABLED, Action.USER_ENABLED,
    Action.INVITATION_SENT, Action.INVITATION_USED, Action.TOKEN_CREATED, Action.TOKEN_REVOKED,
    Action.NOTICE_CREATED, Action.NOTICE_CHANGED, Action.NOTICE_DELETED,
    Action.SIGNED_IN, Action.LOCKED_OUT,
]


def ok(response, status=302):
    assert response.status_code == status, response.content.decode()[:2000]
    return response


@pytest.fixture(autouse=True)
def _fresh_axes(db):
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


@pytest.fixture
def walk(network, django_capture_on_commit_callbacks) -> int:
    """North Sales' admin, signed in through the sign-in page, does each change once on the pages;
    a new user accepts its invitation; another changes its password and tokens; a stranger locks
    an operator out. Returns the last entry before the walk."""
    since = last_event_id()
    admin = Client()
    ok(admin.post(reverse("login"), {"username": "north-admin", "password": PASSWORD}))

    # Accounts: created, renamed and moved to another zone, moved, disabled and enabled.
    ok(admin.post(reverse("accounts:create"), {
        "parent": network.north_farms.pk, "kind": "customer", "name": "Orchard Ltd", "time_zone": "",
    }))
    orchard = Account.objects.get(name="Orchard Ltd")
    ok(admin.post(reverse("accounts:edit", args=[orchard.pk]), {"name": "Orchard & Sons", "time_zone": "Europe/Paris"}))
    ok(admin.post(reverse("accounts:move", args=[orchard.pk]), {"new_parent": network.north.pk}))
    ok(admin.post(reverse("accounts:disable", args=[orchard.pk])))
    ok(admin.post(reverse("accounts:enable", args=[orchard.pk])))

    # Users: created, its role and details changed, a password set, disabled and enabled.
    ok(admin.post(reverse("accounts:user_create"), {
        "account": network.harvest.pk, "username": "picker", "role": "viewer", "email": "", "first_name": "",
        "last_name": "", "password1": GOOD, "password2": GOOD,
    }))
    picker = User.objects.get(username="picker")
    ok(admin.post(reverse("accounts:user_edit", args=[picker.pk]),
                  {"role": "operator", "email": "picker@example.com", "first_name": "Pip", "last_name": ""}))
    ok(admin.post(reverse("accounts:user_password", args=[picker.pk]), {"password1": BETTER, "password2": BETTER}))
    ok(admin.post(reverse("accounts:users_disable"), {"pk": [picker.pk], "_confirm": "1"}))
    ok(admin.post(reverse("accounts:users_enable"), {"pk": [picker.pk], "_confirm": "1"}))

    # An invitation, sent and used through its link.
    with django_capture_on_commit_callbacks(execute=True):
        ok(admin.post(reverse("accounts:user_create"), {
            "account": network.harvest.pk, "username": "new-farmer", "role": "operator", "email": "farmer@example.com",
            "first_name": "", "last_name": "", "invite": "on", "password1": "", "password2": "",
        }))
    link = re.search(r"https?://\S+(/accounts/invitation/\S+/)", mail.outbox[-1].body).group(1)
    invited = Client()
    form_url = invited.get(link, follow=True).redirect_chain[-1][0]
    ok(invited.post(form_url, {"new_password1": GOOD, "new_password2": GOOD}))

    # Tokens: one made and deleted on the profile page, one by the command, revoked with the
    # password its user changes on the profile page.
    picker_client = Client()
    ok(picker_client.post(reverse("login"), {"username": "picker", "password": BETTER}))
    ok(picker_client.post(reverse("profile:detail"), {"name": "tracking server"}), 201)
    token = ApiToken.objects.get(user=picker, name="tracking server")
    ok(picker_client.post(reverse("profile:token_delete", args=[token.pk])))
    call_command("api_token", "picker", "--name", "erp", stdout=open("/dev/null", "w"))
    ok(picker_client.post(reverse("profile:password"), {"old_password": BETTER, "password1": GOOD, "password2": GOOD}))
    assert not ApiToken.objects.filter(user=picker).exists()

    # Notices: created, changed, deleted.
    ok(admin.post(reverse("notices:create"), {"name": "Renew", "text": "Order now", "days_before": "10"}))
    notice = ExpiryNotice.objects.get(name="Renew")
    ok(admin.post(reverse("notices:edit", args=[notice.pk]), {"name": "Renew soon", "text": "Order now", "days_before": "7"}))
    ok(admin.post(reverse("notices:delete", args=[notice.pk])))

    # A stranger locks the farms operator out, and keeps trying.
    stranger = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        stranger.post(reverse("login"), {"username": "farms-operator", "password": "guess"})

    return since


def listed(client, action: str, since: int) -> list:
    response = client.get(URL, {"occurred_after": "", "occurred_before": "", "action": [action], "per_page": 250})
    assert response.status_code == 200
    return [row for row in response.context["table"].data if row.pk > since]


def test_given_a_walk_doing_each_change_once_then_the_report_shows_every_one_under_its_own_action(
    client, network, walk
):
    client.force_login(network.north_admin)

    missing = [action for action in WALKED if not listed(client, action, walk)]

    assert missing == []
    assert all(row.action == Action.LOCKED_OUT for row in listed(client, Action.LOCKED_OUT, walk))
    assert len(listed(client, Action.LOCKED_OUT, walk)) == 1  # eight tries, one lock-out


def test_given_the_walk_then_the_rows_say_what_changed_and_never_a_password(client, network, walk):
    client.force_login(network.north_admin)

    page = client.get(URL, {"occurred_after": "", "occurred_before": "", "per_page": 250}).content.decode()

    for said in (
        "Orchard Ltd → Orchard &amp; Sons", "UTC → Europe/Paris", "Viewer → Operator", "— → picker@example.com",
        "Token: tracking server", "Reason: password_set", "Notice: Renew soon", "Days before expiry: 10 → 7",
        "User: farms-operator", "Kind: Customer",
    ):
        assert said in page, said
    for secret in (PASSWORD, GOOD, BETTER):
        assert secret not in page


@pytest.mark.parametrize("outsider", ["south_admin", "rival_admin"])
def test_given_the_walk_then_an_admin_of_another_branch_or_provider_sees_none_of_it(client, network, walk, outsider):
    client.force_login(getattr(network, outsider))

    seen = [action for action in WALKED if listed(client, action, walk)]

    assert seen == []


def test_given_a_customer_of_the_branch_then_it_sees_what_concerns_its_own_account_only(client, network, walk):
    client.force_login(User.objects.get(username="picker"))

    seen = {action for action in WALKED if listed(client, action, walk)}

    # Harvest Co's users and their sign-ins and tokens; not Orchard's changes, North's notices or
    # the farms operator's lock-out, which concern accounts above or beside.
    assert {Action.USER_CREATED, Action.USER_PASSWORD_SET, Action.TOKEN_CREATED, Action.SIGNED_IN} <= seen
    assert not seen & {Action.ACCOUNT_CREATED, Action.ACCOUNT_MOVED, Action.NOTICE_CREATED, Action.LOCKED_OUT}


def test_the_action_filter_groups_every_action_once(client, network):
    from codes.report.filtersets import ACTION_GROUPS

    client.force_login(network.north_admin)

    page = client.get(URL).content.decode()

    grouped = [action for _label, actions in ACTION_GROUPS for action in actions]
    assert sorted(grouped) == sorted(Action.values) and len(grouped) == len(set(grouped))
    for label in ("Codes", "Units", "Accounts &amp; users", "Sign-in", "Notices &amp; mail"):
        assert f'<optgroup label="{label}">' in page
