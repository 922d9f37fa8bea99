"""``aftersales reviews list|moderate|export`` (docs/surveys.md, reviews).

Reviews come from review surveys' pages and wait for moderation (``pending``); ``moderate`` publishes,
rejects or returns one to pending; ``export`` writes the published reviews per product as JSON with
schema.org JSON-LD for the shop's product pages (incentivised reviews disclosed).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import typer

from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, render_records

__all__ = ["register", "reviews_app"]

reviews_app = typer.Typer(help="Product reviews: moderate them and export the published ones.", no_args_is_help=True)


@reviews_app.command("list")
def list_(
    status: str | None = typer.Option(None, "--status", help="pending, published or rejected."),
    product: str | None = typer.Option(None, "--product", help="Only this product's reviews."),
    limit: int = typer.Option(50, "--limit", help="How many (at most 500)."),
    cursor: str | None = typer.Option(None, "--cursor", help="Continue after a previous page."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Reviews ordered by id, with their status, rating and text."""
    from aftersales import bootstrap
    from aftersales.services.operational.surveys import reviews

    bootstrap.init_store(db)
    page = reviews.list_reviews(
        bootstrap.unit_of_work(db), status=status, product_id=product, cursor=cursor, limit=limit
    )
    keep = ("review_id", "product_id", "status", "rating", "title", "body", "incentivised", "updated_at")
    render_records([{k: asdict(r)[k] for k in keep} for r in page.items], fmt, title="Reviews")
    if page.next_cursor and fmt == OutputFormat.table:
        print(f"more: --cursor {page.next_cursor}")


@reviews_app.command("moderate")
def moderate(
    review_id: str = typer.Argument(..., help="The review (rev_...)."),
    action: str = typer.Argument(..., help="publish, reject or pending."),
    note: str | None = typer.Option(None, "--note", help="A note for moderators (never shown)."),
    incentivised: bool | None = typer.Option(
        None, "--incentivised/--not-incentivised", help="Mark whether the reviewer got an incentive."
    ),
    db: str | None = DbOption,
) -> None:
    """Publish, reject or return a review to pending."""
    from aftersales import bootstrap
    from aftersales.services.operational.surveys import reviews

    bootstrap.init_store(db)
    done = reviews.moderate(
        bootstrap.unit_of_work(db), review_id, action, now=datetime.now(UTC), note=note, incentivised=incentivised
    )
    print(f"review {done.review_id} {done.status}")


@reviews_app.command("export")
def export(
    product: list[str] | None = typer.Option(None, "--product", help="Only these products (repeat)."),
    seller: str = typer.Option("the seller", "--seller", help="The shop's name (the sponsor of incentivised reviews)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the JSON here instead of printing it."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Published reviews per product as JSON, each product with its schema.org JSON-LD."""
    from aftersales import bootstrap
    from aftersales.services.operational.surveys import reviews

    bootstrap.init_store(db)
    docs = reviews.export(bootstrap.unit_of_work(db), product_ids=product or None, seller=seller)
    text = json.dumps(docs, indent=2, ensure_ascii=False)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {len(docs)} products to {out}")
    elif fmt == OutputFormat.table:
        rows = [{"product": d["product_id"], "reviews": d["review_count"], "rating": d["rating"],
                 "incentivised": d["incentivised_count"]} for d in docs]  # fmt: skip
        render_records(rows, fmt, title="Published reviews (use -f json or --out for the JSON-LD)")
    else:
        print(text)


def register(app: typer.Typer) -> None:
    app.add_typer(reviews_app, name="reviews")
