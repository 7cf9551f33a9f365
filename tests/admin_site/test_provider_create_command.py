"""With the admin site read-only, a platform operator onboards a provider from the command line,
through the services: the provider and its first admin, who is invited by e-mail."""

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from audit.models import Action
from cms.models import Account, User
from tests.domain.support import last_event_id, new_events


def test_given_a_name_an_admin_and_an_address_then_the_provider_and_its_invited_admin_exist(
    db, django_capture_on_commit_callbacks
):
    since = last_event_id()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("provider_create", "Blue Fleet", "--admin", "blue-admin", "--email", "ops@blue.example",
                     "--time-zone", "Europe/Berlin", stdout=open("/dev/null", "w"))

    provider = Account.objects.get(name="Blue Fleet")
    admin = User.objects.get(username="blue-admin")
    assert (provider.kind, provider.depth, provider.time_zone) == ("provider", 1, "Europe/Berlin")
    assert (admin.account_id, admin.role, admin.has_usable_password()) == (provider.pk, "admin", False)
    assert mail.outbox[-1].to == ["ops@blue.example"] and "The Keyline operator" in mail.outbox[-1].body
    assert [(e.action, e.actor_label, e.account_id) for e in new_events(since)] == [
        (Action.ACCOUNT_CREATED, "system", provider.pk),
        (Action.USER_CREATED, "system", provider.pk),
        (Action.INVITATION_SENT, "system", provider.pk),
    ]


@pytest.mark.parametrize("arguments", [
    ["Blue Fleet", "--admin", "blue-admin", "--email", "ops@blue.example", "--time-zone", "Mars/Base"],
    ["  ", "--admin", "blue-admin", "--email", "ops@blue.example"],
    ["Blue Fleet", "--admin", "blue-admin", "--email", ""],
])
def test_given_bad_input_then_a_clear_error_and_nothing_created(db, arguments):
    since = last_event_id()

    with pytest.raises(CommandError):
        call_command("provider_create", *arguments)

    assert not Account.objects.filter(name="Blue Fleet").exists()
    assert not User.objects.filter(username="blue-admin").exists()
    assert not new_events(since).exists()
