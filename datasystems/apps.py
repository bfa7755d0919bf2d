from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DatasystemsConfig(AppConfig):
    name = "datasystems"
    verbose_name = _("Data systems")

    def ready(self) -> None:
        from casework.roles import roles_ensure_after_migrate

        # The staff roles hold this app's permissions too (the auditor reads the register, a system owner their own
        # systems): set them again once this app's permissions exist.
        post_migrate.connect(roles_ensure_after_migrate, sender=self, dispatch_uid="datasystems_roles_ensure")
