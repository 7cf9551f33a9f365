"""manage.py api_token USERNAME [--name NAME]: create a personal API token and print its key."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cms.actors import SYSTEM
from cms.authentication import api_token_create
from cms.errors import DomainError


class Command(BaseCommand):
    help = "Create a personal API token for a user and print its key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="manage.py api_token", help="What the token is for.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            # Written to the audit log as created by the system: whoever ran the command is not a user.
            _token, key = api_token_create(user=user, name=name, actor=SYSTEM)
        except DomainError as error:
            raise CommandError(error.message)
        self.stdout.write(key)
