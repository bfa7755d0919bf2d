from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from democrm.generate import DEMO_PEOPLE, democrm_generate
from democrm.models import Customer


class Command(BaseCommand):
    help = (
        "Fill the demo CRM with realistic generated customers, orders, preferences, tickets and events (deterministic "
        "for a seed), plus the demo's requesters under their own e-mail addresses."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=200, help="generated customers (besides the demo's people)")
        parser.add_argument("--rows-per-person", type=int, default=50, help="about this many rows per customer")
        parser.add_argument("--seed", type=int, default=12)
        parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="reference date (YYYY-MM-DD)")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--no-demo-people", action="store_true", help=f"leave out the {len(DEMO_PEOPLE)} demo people"
        )
        parser.add_argument("--demo-rows-per-person", type=int, default=60)
        parser.add_argument("--replace", action="store_true", help="empty the demo CRM first")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the demo CRM holds data already (for load_demo)"
        )

    def handle(self, *args, **options) -> None:
        if options["people"] < 0 or options["rows_per_person"] < 0 or options["batch_size"] < 1:
            raise CommandError("--people and --rows-per-person must be 0 or more, --batch-size at least 1.")
        if options["if_empty"] and Customer.objects.exists():
            self.stdout.write("Demo CRM: already filled, left as it is.")
            return
        try:
            counts = democrm_generate(
                people=options["people"],
                rows_per_person=options["rows_per_person"],
                seed=options["seed"],
                as_of=options["as_of"],
                batch_size=options["batch_size"],
                demo_people=not options["no_demo_people"],
                demo_rows_per_person=options["demo_rows_per_person"],
                replace=options["replace"],
            )
        except ValueError as error:
            raise CommandError(str(error))
        summary = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in vars(counts).items())
        self.stdout.write(f"Demo CRM: {counts.total} rows ({summary}).")
