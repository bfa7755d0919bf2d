from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("Casework")

    def ready(self) -> None:
        from .roles import roles_ensure_after_migrate

        # After this app's migrations, when every app before it has its permissions: the staff roles exist on a
        # fresh database without anyone running a command.
        post_migrate.connect(roles_ensure_after_migrate, sender=self, dispatch_uid="casework_roles_ensure")
