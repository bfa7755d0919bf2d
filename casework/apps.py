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

        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from .selectors import assignable_staff_forget

        # Who may be assigned requests follows from users, their groups and permissions: any change to those
        # forgets the cached list (selectors.assignable_staff_choices).
        user = get_user_model()
        for sender in (user, Group):
            post_save.connect(assignable_staff_forget, sender=sender, dispatch_uid=f"casework_staff_{sender.__name__}")
            post_delete.connect(
                assignable_staff_forget, sender=sender, dispatch_uid=f"casework_staff_del_{sender.__name__}"
            )
        for through in (user.groups.through, user.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(
                assignable_staff_forget, sender=through, dispatch_uid=f"casework_staff_{through.__name__}"
            )
