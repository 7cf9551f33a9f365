from django.core.management.base import BaseCommand

from codes.services import codes_archive_expired


class Command(BaseCommand):
    help = "Detach expired codes from their units and mark them archived (the daily clean-up)."

    def handle(self, *args, **options):
        self.stdout.write(f"archived {codes_archive_expired()}")
