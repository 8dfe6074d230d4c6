from django.db import models


class Heartbeat(models.Model):
    """The last sign of life of a background process (not tenant data): the worker writes
    its row every few seconds (``heartbeat.beat("worker")``), ``/readyz`` reads its age."""

    name = models.CharField(max_length=50, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
