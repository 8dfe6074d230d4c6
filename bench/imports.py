"""Import benchmark: a products file with opening stock in two warehouses, or a sales history
file, validated (the dry run) and applied, in process on PostgreSQL (its own database
``<BENCH_DB_PREFIX>_import``).

Prints JSON lines: the file's size, then for each phase its wall time, rows per second, the
number of SQL statements, the CPU time of the process and of its database backend (on a
shared machine, the wall time also counts the neighbours' work), and the process's peak RSS
during that phase alone (``VmHWM``, reset before each phase; Linux). A sales import
first imports ``--products`` products (untimed), which the sales then name.

    .venv/bin/python -m bench.imports --rows 100000
    .venv/bin/python -m bench.imports --kind sales --rows 1000000
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import ROOT, VENV_BIN, database_url, emit, machine, server_env, setup_django
from bench.notify import recreate
from bench.run import database_backend_pids, process_cpu_seconds

NAME = "import"


def peak_rss_mb() -> float:
    """The process's peak resident memory since the last ``reset_peak_rss`` (``VmHWM``)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024


def reset_peak_rss() -> None:
    """Start ``peak_rss_mb`` again from the current RSS (Linux: 5 into clear_refs), so that
    each phase's figure is its own, not the high-water mark of the phases before it."""
    Path("/proc/self/clear_refs").write_text("5")


def database_cpu_seconds() -> float:
    """CPU time of the PostgreSQL backends serving the bench database (this process's one)."""
    from bench.common import DATABASE_PREFIX

    return process_cpu_seconds(database_backend_pids(f"{DATABASE_PREFIX}_{NAME}"))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def products_file(rows: int) -> bytes:
    lines = ["sku,name,price,product_type,low_stock_threshold,stock:MAIN,stock:BACK"]
    lines += [
        f"BENCH-{n:07d},Product {n},{n % 500}.{n % 100:02d},Type {n % 20},{n % 30},{n % 97},{n % 13}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def sales_file(rows: int, products: int) -> bytes:
    """A year of history ending yesterday, spread over the products and both warehouses;
    written line by line, so that building it does not raise the process's peak RSS (the
    figure measured) above the file itself."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=366)
    step = timedelta(days=365) / rows
    out = io.BytesIO()
    out.write(b"sku,warehouse,quantity,unit_price,sold_at\n")
    for n in range(rows):
        sold_at = (start + n * step).strftime("%Y-%m-%dT%H:%M:%SZ")
        warehouse = "BACK" if n % 3 else "MAIN"
        line = (
            f"BENCH-{n % products:07d},{warehouse},{1 + n % 4},{n % 50}.{n % 100:02d},{sold_at}\n"
        )
        out.write(line.encode())
    return out.getvalue()


def run_import(company_id: int, kind: str, content: bytes, rows: int, *, timed: bool = True):
    """Upload, validate and apply one file; emit each phase's figures when ``timed``. Runs as
    the request and the worker's task do: in the company's database context (row-level
    security on PostgreSQL, ``tenancy.dbcontext``)."""
    from stockflow.tenancy.dbcontext import tenant

    with tenant([company_id]):
        _run_import(company_id, kind, content, rows, timed=timed)


def _run_import(company_id: int, kind: str, content: bytes, rows: int, *, timed: bool):
    from django.db import connection

    from stockflow.dataio import services

    reset_peak_rss()
    started = time.perf_counter()
    job, _ = services.create_job(
        company_id=company_id,
        kind=kind,
        content=content,
        file_name=f"{kind}.csv",
        dry_run=True,
        actor=None,
    )
    upload_seconds = time.perf_counter() - started
    if timed:
        emit(phase="upload", seconds=round(upload_seconds, 2), peak_rss_mb=round(peak_rss_mb(), 1))
    for phase, run in (("validate", services.validate_job), ("apply", services.apply_job)):
        if phase == "apply":
            services.start_apply(job)
        reset_peak_rss()
        statements = [0]

        def count(execute, sql, params, many, context, statements=statements):
            statements[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started, cpu, db_cpu = time.perf_counter(), cpu_seconds(), database_cpu_seconds()
            job = run(job.company_id, job.pk)
            seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            db_cpu = database_cpu_seconds() - db_cpu
        if timed:
            emit(
                phase=phase,
                kind=kind,
                status=job.status,
                seconds=round(seconds, 2),
                rows_per_second=round(rows / seconds),
                cpu_seconds=round(cpu, 2),
                database_cpu_seconds=round(db_cpu, 2),
                statements=statements[0],
                peak_rss_mb=round(peak_rss_mb(), 1),
            )
    if job.status != "applied":
        raise SystemExit(f"the {kind} import ended {job.status}: {job.errors[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["products", "sales"], default="products")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=2_000, help="products the sales name")
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
    from stockflow.catalog import services as catalog
    from stockflow.tenancy.models import Company

    emit(event="machine", **machine())
    company = Company.objects.create(name="Import bench")
    catalog.create_warehouse(company=company, name="Main", code="MAIN")
    catalog.create_warehouse(company=company, name="Back", code="BACK")
    if args.kind == "sales":
        run_import(company.pk, "products", products_file(args.products), args.products, timed=False)
        content = sales_file(args.rows, args.products)
    else:
        content = products_file(args.rows)
    emit(
        event="file",
        kind=args.kind,
        rows=args.rows,
        bytes=len(content),
        peak_rss_mb=round(peak_rss_mb(), 1),
    )
    run_import(company.pk, args.kind, content, args.rows)
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "verify_stock"],
        cwd=ROOT,
        env={**server_env(db_url), "DATABASE_POOL": "0"},
        check=True,
    )


if __name__ == "__main__":
    main()
