"""The apps depend on each other in one direction only: tenancy → catalog → inventory →
alerts → purchasing → notifications. A module may import its own app and the apps before it, never one after it.
``stockflow.locking``, which every layer takes its row locks from, imports no app at all,
and the shared ``api`` package none of the domain apps above tenancy."""

from __future__ import annotations

import ast
from pathlib import Path

import stockflow

LAYERS = ["tenancy", "catalog", "inventory", "alerts", "purchasing", "notifications"]
SOURCE = Path(stockflow.__file__).parent


def imported_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def imported_apps(source: str) -> set[str]:
    """The stockflow packages (apps and top-level modules) a module imports."""
    return {
        module.split(".")[1]
        for module in imported_modules(source)
        if module.startswith("stockflow.") and len(module.split(".")) > 1
    }


def upward_imports(app: str, source: str) -> set[str]:
    """The apps after ``app`` in ``LAYERS`` that a module of ``app`` imports."""
    above = LAYERS[LAYERS.index(app) + 1 :]
    return imported_apps(source) & set(above)


def modules_of(package: str) -> list[Path]:
    return sorted((SOURCE / package).rglob("*.py"))


def test_no_app_imports_an_app_above_it():
    offenders = {
        str(path.relative_to(SOURCE)): sorted(found)
        for app in LAYERS
        for path in modules_of(app)
        if (found := upward_imports(app, path.read_text()))
    }
    assert not offenders, f"upward imports ({' → '.join(LAYERS)}): {offenders}"


def test_the_lock_module_imports_no_app():
    source = (SOURCE / "locking.py").read_text()
    assert not imported_apps(source) & {*LAYERS, "api"}


def test_the_api_package_imports_no_domain_app_above_tenancy():
    offenders = {
        str(path.relative_to(SOURCE)): sorted(found)
        for path in modules_of("api")
        if (found := imported_apps(path.read_text()) & set(LAYERS[1:]))
    }
    assert not offenders


def test_an_upward_import_is_reported_in_every_form():
    assert upward_imports("catalog", "from stockflow.inventory.models import StockLevel")
    assert upward_imports("catalog", "from stockflow import inventory")
    assert upward_imports("catalog", "import stockflow.alerts.selectors")
    assert upward_imports(
        "inventory", "def late():\n    from stockflow.alerts import selectors\n"
    ) == {"alerts"}
    assert not upward_imports("inventory", "from stockflow.catalog.models import Product")
    assert not upward_imports("alerts", "from stockflow.inventory.models import Sale")
