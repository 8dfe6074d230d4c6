from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from stockflow.api.fields import company_id_field
from stockflow.dataio.models import ImportJob, ImportKind, ImportStatus

FIRST_ERRORS = 20


class ImportUploadSerializer(serializers.Serializer):
    company_id = company_id_field(help_text="The company the rows are imported into.")
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="CSV (UTF-8, comma or semicolon) or XLSX; the first row names the columns.",
    )
    dry_run = serializers.BooleanField(
        default=True,
        help_text="Validate only (then POST …/apply); false applies at once if the file is valid.",
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1 is the header row.")
    column = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class ImportCountsSerializer(serializers.Serializer):
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class ImportJobSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ImportStatus.choices, read_only=True)
    kind = serializers.ChoiceField(choices=ImportKind.choices, read_only=True)
    counts = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField(help_text=f"The first {FIRST_ERRORS} errors.")
    dry_run = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "company_id",
            "kind",
            "status",
            "dry_run",
            "file_name",
            "content_hash",
            "rows_total",
            "rows_done",
            "counts",
            "errors",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ImportCountsSerializer)
    def get_counts(self, job: ImportJob) -> dict[str, int]:
        return {
            "create": job.created_count,
            "update": job.updated_count,
            "unchanged": job.unchanged_count,
            "error": job.error_count,
        }

    @extend_schema_field(serializers.BooleanField())
    def get_dry_run(self, job: ImportJob) -> bool:
        return not job.apply_when_valid

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, job: ImportJob) -> list[dict]:
        return job.errors[:FIRST_ERRORS]
