"""manage.py provider_create NAME --admin USERNAME --email ADDRESS [--time-zone ZONE]: a new
provider's tree and its first admin, who is invited by e-mail to choose a password.

The admin site only reads (ADR 33): onboarding a provider goes through the services like every
other change, so it is checked and written to the audit log (by "system")."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cms.errors import DomainError
from cms.models import User
from cms.services import provider_create, user_invite


class Command(BaseCommand):
    help = "Create a provider and invite its first admin by e-mail."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The provider's name.")
        parser.add_argument("--admin", required=True, help="The first admin's username.")
        parser.add_argument("--email", required=True, help="Where the invitation goes.")
        parser.add_argument("--time-zone", default="UTC", help="The provider's time zone (default UTC).")

    def handle(self, *args, name, admin, email, time_zone, **options):
        try:
            with transaction.atomic():
                provider = provider_create(name=name, time_zone=time_zone)
                user_invite(actor=None, account=provider, username=admin, email=email, role=User.Role.ADMIN)
        except DomainError as error:
            raise CommandError(error.message)
        self.stdout.write(f"{provider.name} created; an invitation went to {email} for {admin}.")
