"""Re-encrypt personal data under the active key after a new key was put first in FIELD_ENCRYPTION_KEYS.

Covers every kind of data at rest: encrypted model fields (dsar_portal/fields.py), stored files
(dsar_portal/filestore.py) and staff TOTP secrets (dsar_portal/staff_auth.py). Only when it reports no failures
may the old key be removed.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from dsar_portal import filestore
from dsar_portal.fields import EncryptedFieldMixin, reencrypt_instance_fields
from dsar_portal.staff_auth import totp_secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field and every stored file with the active key, so old keys can be retired."

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

        totp = totp_secrets_reencrypt()
        total += totp
        self.stdout.write(f"Staff authenticator app secrets: {totp} re-encrypted")

        result = filestore.rotate_all()
        files = 0
        for namespace, rotated in result.rotated.items():
            files += rotated
            self.stdout.write(f"Files in {namespace}/: {rotated} re-encrypted")
        if result.failed:
            for namespace, names in result.failed.items():
                for name in names:
                    self.stderr.write(f"Could not decrypt {namespace}/{name}")
            failed = sum(len(names) for names in result.failed.values())
            raise CommandError(
                f"{failed} stored files could not be re-encrypted; keep the old keys until this is resolved."
            )
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows and {files} files re-encrypted."))
