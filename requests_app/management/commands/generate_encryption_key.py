from django.core.management.base import BaseCommand

from dsar_portal.crypto import generate_key


class Command(BaseCommand):
    help = "Print a new random 256-bit key for FIELD_ENCRYPTION_KEYS or FIELD_HASH_KEY."

    def handle(self, *args, **options) -> None:
        self.stdout.write(generate_key())
