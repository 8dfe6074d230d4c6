"""Import benchmark: a products file with opening stock in two warehouses, validated (the dry
run) and applied, in process on PostgreSQL (its own database ``<BENCH_DB_PREFIX>_import``).

Prints JSON lines: the file's size, then for each phase its wall time, rows per second, the
number of SQL statements, and the process's peak RSS after it (``ru_maxrss``: the high-water
mark of the whole process, so the apply's figure includes the validation's).

    .venv/bin/python -m bench.imports --rows 100000
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time

from bench.common import ROOT, VENV_BIN, database_url, emit, machine, server_env, setup_django
from bench.notify import recreate

NAME = "import"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def products_file(rows: int) -> bytes:
    lines = ["sku,name,price,product_type,low_stock_threshold,stock:MAIN,stock:BACK"]
    lines += [
        f"BENCH-{n:07d},Product {n},{n % 500}.{n % 100:02d},Type {n % 20},{n % 30},{n % 97},{n % 13}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    os.environ["DATABASE_POOL"] = "0"
    db_url = database_url(NAME)
    from bench.common import DATABASE_PREFIX

    recreate(f"{DATABASE_PREFIX}_{NAME}")
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**server_env(db_url), "DATABASE_POOL": "0"},
        check=True,
    )
    setup_django(db_url)
    from django.db import connection

    from stockflow.catalog import services as catalog
    from stockflow.dataio import services
    from stockflow.tenancy.models import Company

    emit(event="machine", **machine())
    company = Company.objects.create(name="Import bench")
    catalog.create_warehouse(company=company, name="Main", code="MAIN")
    catalog.create_warehouse(company=company, name="Back", code="BACK")
    content = products_file(args.rows)
    emit(event="file", rows=args.rows, bytes=len(content), peak_rss_mb=round(peak_rss_mb(), 1))

    started = time.perf_counter()
    job, _ = services.create_job(
        company_id=company.pk,
        kind="products",
        content=content,
        file_name="products.csv",
        dry_run=True,
        actor=None,
    )
    upload_seconds = time.perf_counter() - started
    emit(phase="upload", seconds=round(upload_seconds, 2), peak_rss_mb=round(peak_rss_mb(), 1))
    for phase, run in (("validate", services.validate_job), ("apply", services.apply_job)):
        if phase == "apply":
            services.start_apply(job)
        statements = [0]

        def count(execute, sql, params, many, context, statements=statements):
            statements[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            job = run(job.company_id, job.pk)
            seconds = time.perf_counter() - started
        emit(
            phase=phase,
            status=job.status,
            seconds=round(seconds, 2),
            rows_per_second=round(args.rows / seconds),
            statements=statements[0],
            peak_rss_mb=round(peak_rss_mb(), 1),
        )
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "verify_stock"],
        cwd=ROOT,
        env={**server_env(db_url), "DATABASE_POOL": "0"},
        check=True,
    )


if __name__ == "__main__":
    main()
