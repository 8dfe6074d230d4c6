"""Template helpers of the web app: presentation only (links, formats), no queries."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query(context, **changes) -> str:
    """The current query string with ``changes`` applied (``None`` or "" drops a key); a
    change of anything but the page goes back to page 1."""
    params = context["request"].GET.copy()
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def money(value) -> str:
    """A Decimal amount with thousands separators and two decimals: 12,345.60."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def signed(value: int) -> str:
    return f"{value:+d}"
