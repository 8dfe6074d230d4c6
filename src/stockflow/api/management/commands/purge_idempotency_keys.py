from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stockflow.api.idempotency import MIN_TTL_HOURS, purge_expired_keys
from stockflow.tenancy import dbcontext


class Command(BaseCommand):
    help = (
        "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_HOURS (a retry after "
        "that runs the operation again). Run it periodically, e.g. hourly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours",
            type=int,
            default=None,
            help=f"Override the TTL (default {settings.IDEMPOTENCY_KEY_TTL_HOURS}).",
        )

    def handle(self, *args, older_than_hours=None, **options):
        if older_than_hours is not None and older_than_hours < MIN_TTL_HOURS:
            raise CommandError(
                f"Keys are kept at least {MIN_TTL_HOURS} hours: --older-than-hours must be "
                f"at least {MIN_TTL_HOURS}."
            )
        with dbcontext.maintenance():  # every company's keys
            deleted = purge_expired_keys(older_than_hours=older_than_hours)
        self.stdout.write(f"Deleted {deleted} idempotency key(s).")
