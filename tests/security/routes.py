"""Every API route and method, read from the URL configuration: a new endpoint shows up here
without anyone listing it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "/api/"
# HEAD answers like GET and OPTIONS describes the route; both are checked for every route
# at once (test_isolation), not one by one.
DERIVED_METHODS = {"HEAD", "OPTIONS"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    template: str  # "/api/warehouses/{pk}"
    view_class: type
    methods: frozenset[str]


def template_of(pattern: str) -> str:
    """``api/^companies/(?P<company_pk>\\d+)/members/?$`` → ``/api/companies/{company_pk}/members``."""
    text = _NAMED_GROUP.sub(r"{\1}", pattern)
    text = _CONVERTER.sub(r"{\1}", text)
    # Router routes end in an optional slash ("/?"): named without it.
    return "/" + text.replace("^", "").replace("$", "").replace("/?", "")


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def view_class_of(pattern: URLPattern) -> type | None:
    callback = pattern.callback
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def methods_of(pattern: URLPattern, view_class: type) -> frozenset[str]:
    actions = getattr(pattern.callback, "actions", None)
    if actions is not None:  # a viewset route: its method → action map
        names = set(actions)
    else:
        names = {name for name in view_class.http_method_names if hasattr(view_class, name)}
    return frozenset(name.upper() for name in names) - DERIVED_METHODS


def api_routes() -> list[Route]:
    routes = []
    for pattern_text, pattern in _walk(get_resolver().url_patterns):
        template = template_of(pattern_text)
        if not template.startswith(API_PREFIX):
            continue
        view_class = view_class_of(pattern)
        assert view_class is not None, f"{template}: a function view under /api/"
        routes.append(Route(template, view_class, methods_of(pattern, view_class)))
    return routes


def route_methods() -> set[tuple[str, str]]:
    """Every (route template, method) pair under /api/."""
    return {(route.template, method) for route in api_routes() for method in route.methods}


def fill(template: str, **values) -> str:
    return template.format(**values)
