"""Re-encrypt personal data under the active key after a new key was put first in FIELD_ENCRYPTION_KEYS."""

from django.apps import apps
from django.core.management.base import BaseCommand

from dsar_portal.fields import EncryptedFieldMixin, reencrypt_instance_fields


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the active key, so old keys can be retired."

    def handle(self, *args, **options) -> None:
        total = 0
        for model in apps.get_models():
            if not any(isinstance(field, EncryptedFieldMixin) for field in model._meta.concrete_fields):
                continue
            changed = 0
            for instance in model._default_manager.iterator(chunk_size=500):
                changed += reencrypt_instance_fields(instance)
            total += changed
            self.stdout.write(f"{model._meta.label}: {changed} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows re-encrypted."))
