from django.core.management.base import BaseCommand

from codes.services import codes_expire_due


class Command(BaseCommand):
    help = "Record expirations and starts the clock has decided, and the unit states they change."

    def handle(self, *args, **options):
        run = codes_expire_due()
        self.stdout.write(f"expired {run.expired}, started {run.started}, units changed {run.units_changed}")
