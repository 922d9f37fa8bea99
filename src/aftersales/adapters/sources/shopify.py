"""Shopify's orders export (Admin > Orders > Export, CSV): one row per line item.

The first row of an order carries the order's fields; later rows of the same order (same ``Name``)
carry only line-item fields. Columns used (others are ignored):

============================== ==================================================================
Shopify column                 contract
============================== ==================================================================
Name (``#1001``)               orders.order_id = ``shopify-<Id>`` when ``Id`` is present, else
                               ``shopify-<Name>``
Email                          customers.customer_id = ``shopify-`` + first 16 hex digits of the
                               SHA-256 of the lower-cased e-mail; customers.email
Created at                     orders.ordered_at (``2024-03-01 10:00:00 -0500``)
Cancelled at                   orders.cancelled_at; status ``cancelled``
Paid at, Financial Status      status ``paid`` when ``Paid at`` is set or the status is ``paid`` or
                               ``partially_refunded``; ``refunded`` -> status ``returned``
                               (revenue kept: it is what was refunded); ``voided`` -> ``cancelled``
Fulfillment Status             ``fulfilled`` -> status ``shipped`` (Shopify does not export delivery)
Subtotal                       orders.revenue (after discounts, before shipping and taxes)
Refunded Amount                ``partially_refunded``: revenue = Subtotal - Refunded Amount, at
                               least 0 (the refund may include tax or shipping: then the
                               reduction overstates the goods refunded)
Discount Amount                orders.discount
Currency, Source               orders.currency, orders.channel
Accepts Marketing              customers.email_consent
Billing Name, Billing Country  customers.name, customers.country
Phone / Billing Phone          customers.phone
Lineitem sku / Lineitem name   products.product_id = ``shopify-<sku>`` (the name when no SKU);
                               products.name
Lineitem quantity / price      order_lines.quantity / unit_price (and products.price)
Lineitem discount              order_lines.discount
============================== ==================================================================

The export has no column for the customer's time zone or locale (the Admin API's
``customer_locale`` is not exported): ``customers.timezone`` and ``customers.locale`` stay empty
and the business defaults apply.

A bad row rejects its whole order (all its rows), so no order is stored with missing lines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from aftersales.adapters.sources.files import header, read_csv
from aftersales.core import contract
from aftersales.core.errors import MissingColumnError, UnusableInputError
from aftersales.services.importing import SourceBatch

__all__ = ["REQUIRED", "batches", "customer_id_for_email"]

REQUIRED = ("Name", "Email", "Created at", "Subtotal", "Lineitem quantity", "Lineitem price", "Lineitem name")


def customer_id_for_email(email: str) -> str:
    """Stable customer id of a Shopify buyer: ``shopify-`` + 16 hex digits of SHA-256(lower(email))."""
    return "shopify-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def _stamp(s: pd.Series) -> pd.Series:
    # "2024-03-01 10:00:00 -0500" -> "2024-03-01T10:00:00-05:00" (ISO 8601, zone kept)
    return s.str.strip().str.replace(r"^(\S+) (\S+) ([+-]\d\d)(\d\d)$", r"\1T\2\3:\4", regex=True)


def _col(raw: pd.DataFrame, name: str) -> pd.Series:
    return raw[name] if name in raw.columns else pd.Series("", index=raw.index, dtype=object)


def _map(raw: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], pd.Series, pd.Series]:
    name = raw["Name"].str.strip()
    first = ~name.duplicated(keep="first")
    head = raw[first]
    ids = _col(raw, "Id").str.strip()
    order_id = "shopify-" + ids.where(ids != "", name)
    order_id = order_id.where(first).groupby(name).transform("first").fillna("shopify-" + name)
    email = head["Email"].str.strip()
    cust = email.map(lambda e: customer_id_for_email(e) if e else "")
    financial = _col(head, "Financial Status").str.strip().str.lower()
    fulfil = _col(head, "Fulfillment Status").str.strip().str.lower()
    cancelled = _stamp(_col(head, "Cancelled at"))
    paid = (_col(head, "Paid at").str.strip() != "") | financial.isin(["paid", "partially_refunded"])
    status = pd.Series("placed", index=head.index, dtype=object)
    status[paid] = "paid"
    status[fulfil == "fulfilled"] = "shipped"
    status[financial == "refunded"] = "returned"
    status[(cancelled != "") | (financial == "voided")] = "cancelled"
    revenue, refund_problems = _net_of_refunds(head["Subtotal"], _col(head, "Refunded Amount"), financial)
    phone = _col(head, "Phone").where(_col(head, "Phone").str.strip() != "", _col(head, "Billing Phone"))
    customers = pd.DataFrame(
        {
            "customer_id": cust,
            "email": email,
            "name": _col(head, "Billing Name"),
            "country": _col(head, "Billing Country"),
            "phone": phone,
            "email_consent": _col(head, "Accepts Marketing"),
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": order_id[first],
            "customer_id": cust,
            "status": status,
            "ordered_at": _stamp(head["Created at"]),
            "cancelled_at": cancelled,
            "currency": _col(head, "Currency"),
            "revenue": revenue,
            "discount": _col(head, "Discount Amount"),
            "channel": _col(head, "Source"),
        }
    )
    sku = _col(raw, "Lineitem sku").str.strip()
    product_id = "shopify-" + sku.where(sku != "", raw["Lineitem name"].str.strip())
    products = pd.DataFrame({"product_id": product_id, "name": raw["Lineitem name"], "price": raw["Lineitem price"]})
    lines = pd.DataFrame(
        {
            "order_id": order_id,
            "line_number": name.groupby(name).cumcount() + 1,
            "product_id": product_id,
            "quantity": raw["Lineitem quantity"],
            "unit_price": raw["Lineitem price"],
            "discount": _col(raw, "Lineitem discount"),
        }
    )
    tables = {"customers": customers, "products": products, "orders": orders, "order_lines": lines}
    return tables, name, refund_problems


def _net_of_refunds(subtotal: pd.Series, refunded: pd.Series, financial: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Revenue of each order: the subtotal, less ``Refunded Amount`` when partially refunded (at least 0).

    Returns (revenue as text, the rows whose refund is not a number). A subtotal that is not a number
    is passed on as written, so validation names it.
    """
    partial = financial == "partially_refunded"
    amount = pd.to_numeric(refunded.str.strip().where(refunded.str.strip() != ""), errors="coerce")
    bad = partial & refunded.str.strip().ne("") & amount.isna()
    net = (pd.to_numeric(subtotal, errors="coerce") - amount.fillna(0)).clip(lower=0)
    use = partial & ~bad & net.notna()
    revenue = subtotal.where(~use, net.map("{:.2f}".format))
    return revenue, "Refunded Amount: not a number: '" + refunded[bad] + "'"


def batches(table: contract.Table, path: Path, batch_size: int) -> Iterator[SourceBatch]:
    if table.name != "orders":
        raise UnusableInputError(
            f"--format shopify imports orders (with customers, products and lines), not {table.name}"
        )
    names = header(path, "csv")
    absent = [c for c in REQUIRED if c not in names]
    if absent:
        raise MissingColumnError(f"{path}: not a Shopify orders export: column(s) absent: {', '.join(absent)}")
    carry: pd.DataFrame | None = None
    pending: dict[int, str] = {}
    for raw, rejects in read_csv(path, batch_size):
        pending.update(rejects)
        raw = raw[raw.notna().any(axis=1)]  # a malformed row has no values; its reason is in ``rejects``
        if carry is not None:
            raw = pd.concat([carry, raw])
        if raw.empty:
            continue
        # Keep the last order's rows for the next batch: its lines may continue there.
        tail = raw["Name"] == raw["Name"].iloc[-1]
        if tail.all():
            carry = raw
            continue
        carry, raw = raw[tail], raw[~tail]
        yield _batch(raw, pending)
        pending = {}
    if carry is not None or pending:
        yield _batch(carry if carry is not None else pd.DataFrame(columns=names), pending)


def _batch(raw: pd.DataFrame, rejects: dict[int, str]) -> SourceBatch:
    tables, groups, refund_problems = _map(raw)
    for r, why in zip(refund_problems.index.astype("int64").tolist(), refund_problems.tolist(), strict=True):
        rejects.setdefault(r, why)
    missing_email = tables["customers"]["customer_id"] == ""
    for r in tables["customers"].index[missing_email]:
        rejects[int(r)] = "Email: missing (the customer cannot be identified)"
    tables["customers"] = tables["customers"][~missing_email]
    return SourceBatch(raw=raw, tables=tables, groups=groups, rejects=rejects)
