"""The numeric limits of the API, each defined here once.

Ids are positive 64-bit integers (a PostgreSQL ``bigint``, an SQLite integer): a larger number
is no id, and is refused as such (400, or "not found"), never sent to the database. Stock
quantities stay far from those 64-bit limits, so that no computation on them can overflow.
"""

from __future__ import annotations

# Upper bound of a PostgreSQL bigint (and of an SQLite integer).
BIGINT_MAX = 2**63 - 1

# The ids a request may name: ``value in ID_RANGE`` (constant time for an int).
ID_RANGE = range(1, BIGINT_MAX + 1)

# Units one stock operation (a sale, a receipt, a transfer, an adjustment) moves at most.
MAX_OPERATION_QUANTITY = 1_000_000_000
# The quantities one operation may move: ``value in OPERATION_QUANTITY_RANGE``.
OPERATION_QUANTITY_RANGE = range(1, MAX_OPERATION_QUANTITY + 1)

# Units one stock level holds at most.
MAX_STOCK_QUANTITY = 1_000_000_000_000_000
