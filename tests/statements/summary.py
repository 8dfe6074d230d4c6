"""Print the figures of statement audit files (``tests/statements/plugin.py``):

python -m tests.statements.summary var/statement-audit.json*
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def main(paths: list[str]) -> None:
    statements: dict[str, dict] = {}
    for path in paths:
        with open(path) as f:
            for sql, entry in json.load(f).items():
                known = statements.setdefault(sql, {**entry, "sites": set()})
                known["sites"].update(entry["sites"])
    kinds = Counter(entry["kind"] for entry in statements.values())
    joins = sum(any(f.startswith("join ") for f in e["findings"]) for e in statements.values())
    print(f"distinct statements touching tenant tables: {len(statements)}")
    print(f"  every tenant table by company_id: {kinds['company']}")
    print(f"  some tenant table by id or foreign key only: {kinds['by_id']}")
    print(f"  some tenant table without any condition: {kinds['none']}")
    print(f"  with a join of tenant tables without equal company_id: {joins}")
    sites: Counter = Counter()
    for entry in statements.values():
        if entry["findings"]:
            for site in entry["sites"]:
                sites[site] += 1
    print(f"call sites with findings: {len(sites)}")
    for site, count in sites.most_common():
        print(f"  {count:4d}  {site}")


if __name__ == "__main__":
    main(sys.argv[1:])
