"""Apply every recorded erasure again after a backup was restored (GDPR Art. 17(1): erased data must not come back
into use). For each erasure tombstone, each changing system it names is asked for the people matching its keyed
hashes, and their data is erased again by the register's rules; each reapplication is recorded on the tombstone.

    manage.py erasure_reapply [--system NAME]
"""

from django.core.management.base import BaseCommand

from changes.services import erasure_reapply


class Command(BaseCommand):
    help = "Apply the recorded erasures again after a backup restore (every system, or only --system)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--system", default="", help="Only this data system (its name in the register).")

    def handle(self, *args, system: str = "", **options) -> None:
        result = erasure_reapply(system_name=system)
        for name, rows in sorted(result.systems.items()):
            self.stdout.write(f"{name}: {rows} row(s) erased again")
        for error in result.errors:
            self.stderr.write(error)
        for name in result.for_owners:
            self.stderr.write(
                f"{name}: cannot be searched by the erasures' keyed hashes; its owner must re-apply them from its "
                "own records after the restore."
            )
        self.stdout.write(f"{result.tombstones} erasure(s) checked, {result.rows} row(s) erased again.")
