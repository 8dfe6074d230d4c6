import json

from django.core.management.base import BaseCommand, CommandError

from stockflow.inventory.selectors import stock_invariant_violations
from stockflow.tenancy import dbcontext


class Command(BaseCommand):
    help = (
        "Check every stock invariant with set-based SQL (ledger sums, ledger chains, no "
        "negative stock, one company per level and entry, each level's copy of its "
        "product's low-stock threshold). Exits non-zero with a report when one fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--samples", type=int, default=10, help="Violating rows shown per invariant."
        )

    def handle(self, *args, samples=10, **options):
        with dbcontext.maintenance():  # every company's rows
            checks = stock_invariant_violations(sample_limit=max(samples, 1))
        failed = [check for check in checks if check.violations]
        for check in checks:
            status = "FAIL" if check.violations else "ok"
            self.stdout.write(f"[{status}] {check.name}: {check.description}")
            if check.violations:
                self.stdout.write(f"       {check.violations} violation(s); first ones:")
                for sample in check.samples:
                    self.stdout.write("       " + json.dumps(sample, default=str))
        if failed:
            names = ", ".join(check.name for check in failed)
            raise CommandError(f"{len(failed)} stock invariant(s) broken: {names}.")
        self.stdout.write(self.style.SUCCESS("All stock invariants hold."))
