"""One counter for the unique names and codes the builders make up."""

from itertools import count

_numbers = count(1)


def next_number() -> int:
    return next(_numbers)
