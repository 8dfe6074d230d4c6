"""The README's Configuration table lists every environment variable the service reads,
each once, and its production example passes the deployment check (``make serve``)."""

from __future__ import annotations

import re
import shlex
from collections import Counter
from pathlib import Path

from stockflow.ops.deploycheck import problems

ROOT = Path(__file__).resolve().parents[2]
READERS = [
    *sorted((ROOT / "src" / "stockflow").rglob("*.py")),
    ROOT / "scripts" / "serve.sh",
    ROOT / "scripts" / "run.sh",
]
# Read from the environment, but not settings a deployment chooses: pytest's own marker.
NOT_SETTINGS = {"PYTEST_VERSION"}


def variables_read() -> set[str]:
    names = set()
    for path in READERS:
        text = path.read_text()
        if path.suffix == ".py":
            calls = r"(?:environ\.get|env_bool|env_int|env_list|env\.get|getenv)\(\s*\"([A-Z][A-Z0-9_]+)\""
            names |= set(re.findall(calls, text))
            names |= set(re.findall(r"environ\[\"([A-Z][A-Z0-9_]+)\"\]", text))
        else:
            names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", text))
    return names - NOT_SETTINGS


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_variable_is_in_the_configuration_table_once():
    rows = [line for line in readme_section("Configuration").splitlines() if line.startswith("| `")]
    listed = Counter(
        name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])
    )
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme_section("Configuration")))
    assert sorted(variables_read() - documented) == []
    assert [name for name, times in listed.items() if times > 1] == []


def test_the_production_example_passes_the_deployment_check():
    example = readme_section("Production").split("```sh\n")[2].split("```")[0]
    words = shlex.split(example.split("\n", 1)[1].replace("\\\n", " "))  # after createdb
    env = dict(word.split("=", 1) for word in words if "=" in word)
    env["SECRET_KEY"] = "x" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"  # the $(...) made one
    assert words[-2:] == ["make", "serve"]
    assert problems(env) == []
