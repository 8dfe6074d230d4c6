"""Fixtures of the notification tests: the inventory tests' shops."""

from tests.inventory.conftest import other_shop, shop  # noqa: F401
