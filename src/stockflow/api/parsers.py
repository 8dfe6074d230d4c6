from __future__ import annotations

import codecs
import json
from decimal import Decimal
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

# Request bodies are flat objects with a few nested lists; anything deeper is refused before
# serializers, idempotency fingerprints or error rendering recurse into it.
MAX_NESTING_DEPTH = 32


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def nesting_depth(data: Any) -> int:
    """Depth of nested lists and objects (a scalar is 0), without recursion."""
    deepest = 0
    pending = [(data, 1)] if isinstance(data, dict | list) else []
    while pending:
        value, depth = pending.pop()
        deepest = max(deepest, depth)
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class DecimalJSONParser(JSONParser):
    """JSON parser that reads numbers with a fraction or exponent as ``Decimal``.

    A price such as ``19.99`` then goes from the request text to the database without ever
    being a binary float. ``NaN`` and ``Infinity`` literals are refused, and so are a charset
    that is not a text encoding and nesting deeper than ``MAX_NESTING_DEPTH``.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        # Only a text charset: a bytes-to-bytes codec (charset=bz2_codec, zlib_codec) would
        # decompress a small body far beyond DATA_UPLOAD_MAX_MEMORY_SIZE.
        encoding = get_encoding(parser_context or {})
        too_deep = ParseError(f"JSON parse error - nested deeper than {MAX_NESTING_DEPTH} levels.")
        try:
            decoded = codecs.getreader(encoding)(stream)
            data = json.load(decoded, parse_float=Decimal, parse_constant=_reject_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError:
            raise too_deep from None
        if nesting_depth(data) > MAX_NESTING_DEPTH:
            raise too_deep
        return data
