"""The variables an e-mail template sees: one customer's personalisation, built the same way for
every sender (the journey worker, a preview, a test).

:func:`personalisation` maps a ``customers`` row and the customer's ``customer_profiles`` row
(``core.segments.fields.PROFILE_FIELDS``) to these names:

==========================  =============================================================================
``customer_id``             the customer's id
``first_name``              the first word of ``customers.name`` (None when unknown)
``name``                    ``customers.name`` (None when unknown)
``country``                 ISO country code (None when unknown)
``clv_tier``                ``above_average`` / ``below_average`` (None before a refresh)
``categories``              product categories bought (a list, possibly empty)
``products``                products owned: names when given, else the registered product ids (a list)
``next_maintenance_due``    the next service day (a date, or None)
``warranty_end``            the last warranty day (a date, or None)
``loyalty_balance``         the loyalty points balance: **only defined when known** (test it with
                            ``{% if loyalty_balance is defined %}``)
``profile``                 the whole profile row (``{{ profile.orders }}``)
``trigger``                 the properties of what started the journey (an order, a registration...)
==========================  =============================================================================

plus whatever the sender adds (``extra``): at least ``unsubscribe_url`` and ``preferences_url`` for
marketing e-mail (the shipped layouts show them in the footer when defined), ``brand`` (the sender's
name), ``currency``. ``render_email`` adds ``locale``.

>>> ctx = personalisation({"customer_id": "c1", "name": "Ana  María Ruiz"},
...                       {"clv_tier": "above_average", "categories_bought": ["espresso"]},
...                       extra={"unsubscribe_url": "https://x.test/u/t"})
>>> ctx["first_name"], ctx["categories"], ctx["products"], "loyalty_balance" in ctx
('Ana', ['espresso'], [], False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

__all__ = ["CONTEXT_NAMES", "personalisation"]

#: The names :func:`personalisation` always defines (``loyalty_balance`` only when known).
CONTEXT_NAMES = (
    "customer_id",
    "first_name",
    "name",
    "country",
    "clv_tier",
    "categories",
    "products",
    "next_maintenance_due",
    "warranty_end",
    "profile",
    "trigger",
)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    """A list from a stored list value (a list, an array, a tuple); one text is a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return list(value)


def personalisation(
    customer: Mapping[str, Any],
    profile: Mapping[str, Any] | None = None,
    *,
    trigger: Mapping[str, Any] | None = None,
    product_names: Sequence[str] | None = None,
    loyalty_balance: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The template variables for one customer (see the module's table). ``loyalty_balance`` is taken
    from the argument, else the profile's ``loyalty_balance``; it is left undefined when neither has
    one. ``extra`` is added last and wins."""
    prof = dict(profile or {})
    name = _text(customer.get("name"))
    balance = loyalty_balance if loyalty_balance is not None else prof.get("loyalty_balance")
    ctx: dict[str, Any] = {
        "customer_id": customer.get("customer_id"),
        "first_name": name.split()[0] if name else None,
        "name": name,
        "country": _text(customer.get("country")) or _text(prof.get("country")),
        "clv_tier": prof.get("clv_tier"),
        "categories": _list(prof.get("categories_bought")),
        "products": list(product_names) if product_names is not None else _list(prof.get("products_registered")),
        "next_maintenance_due": prof.get("next_maintenance_due_on"),
        "warranty_end": prof.get("warranty_ends_on"),
        "profile": MappingProxyType(prof),
        "trigger": MappingProxyType(dict(trigger or {})),
    }
    if balance is not None:
        ctx["loyalty_balance"] = balance
    ctx.update(extra or {})
    return ctx
