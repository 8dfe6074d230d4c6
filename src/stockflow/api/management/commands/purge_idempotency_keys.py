from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stockflow.api.idempotency import purge_expired_keys


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
        if older_than_hours is not None and older_than_hours < 24:
            raise CommandError("Keys are kept at least 24 hours: --older-than-hours must be >= 24.")
        deleted = purge_expired_keys(older_than_hours=older_than_hours)
        self.stdout.write(f"Deleted {deleted} idempotency key(s).")
