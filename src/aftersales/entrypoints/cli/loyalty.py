"""``aftersales loyalty apply|balance|history|award|redeem|liability|process`` (docs/loyalty.md).

The program is a YAML (or JSON) file; ``apply`` stores it as a new version, or nothing when it did
not change, and a bad file exits 2 with one line per problem naming its path in the document.
``process`` settles the store's orders into the ledger as of now (``--now`` to settle as of another
time); awards and redemptions take a ``--key``, so running the same command twice writes once.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from aftersales.entrypoints.cli.options import DbOption, FormatOption
from aftersales.entrypoints.cli.render import OutputFormat, print_json, render_records

__all__ = ["loyalty_app", "register"]

loyalty_app = typer.Typer(
    help="Loyalty points: the program, members' balances and history, awards, redemptions, liability.",
    no_args_is_help=True,
)
MemberArgument = typer.Argument(..., help="The member's customer id.")
KeyOption = typer.Option(..., "--key", help="Idempotency key: the same key writes once, however often it is sent.")
NowOption = typer.Option(
    None, "--now", help="The time to act as of (ISO 8601, e.g. 2024-06-30T12:00:00+00:00; default: the clock)."
)


def _clock(now: str | None) -> Any:
    """A manual clock at ``--now``, else the system clock."""
    from aftersales.core.errors import FieldError, ValidationError
    from aftersales.services.clock import ManualClock, SystemClock

    if now is None:
        return SystemClock()
    try:
        when = datetime.fromisoformat(now)
    except ValueError:
        when = None
    if when is None:
        message = f"{now!r} is not a time such as 2024-06-30T12:00:00+00:00"
        raise ValidationError(f"--now: {message}", [FieldError(("now",), message)])
    return ManualClock(when if when.tzinfo else when.replace(tzinfo=UTC))


def _uow(db: str | None) -> Any:
    from aftersales import bootstrap

    bootstrap.init_store(db)
    return bootstrap.unit_of_work(db)


@loyalty_app.command("apply")
def apply(
    file: Path = typer.Argument(..., help="The program document (YAML or JSON).", show_default=False),
    db: str | None = DbOption,
) -> None:
    """Store the program: version 1, a new version when the file changed, nothing when it did not."""
    from aftersales.core.errors import ValidationError
    from aftersales.services.operational import loyalty

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {file}: cannot read the file ({getattr(exc, 'strerror', None) or exc})", file=sys.stderr)
        raise typer.Exit(2) from None
    try:
        done = loyalty.apply_program(_uow(db), loyalty.load_program_text(text, str(file)))
    except ValidationError as exc:
        for e in exc.errors or ():
            where = "/".join(map(str, e.loc))
            print(f"{file}: {where}: {e.message}" if where else e.message, file=sys.stderr)
        raise typer.Exit(2) from None
    p = done.program
    print(f"loyalty program {p.name!r} {done.status} (version {p.version})")


def _tier(t: Any) -> str:
    nxt = f", {t.points_to_next:,} points to {t.next_tier}" if t.next_tier else ""
    return f"{t.name} (x{t.earn_multiplier}; {t.window_points:,} points earned in the window{nxt})"


@loyalty_app.command("balance")
def balance(
    member_id: str = MemberArgument,
    now: str | None = NowOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """A member's points now: balance, available, locked, expiring soon, tier, and the open lots."""
    from aftersales.services.operational import loyalty

    view = loyalty.member(_uow(db), member_id, clock=_clock(now))
    if fmt == OutputFormat.json:
        print_json(asdict(view))
        return
    if fmt == OutputFormat.csv:
        render_records([asdict(x) for x in view.lots], fmt)
        return
    print(f"{member_id}: {view.balance:,} points, {view.available:,} available, {view.locked:,} locked")
    print(f"tier: {_tier(view.tier)}")
    if view.expiring_soon:
        print(f"expiring soon: {view.expiring_soon:,} points")
    if view.lots:
        render_records([asdict(x) for x in view.lots], fmt, title="Lots (the next redemption draws from the top)")


@loyalty_app.command("history")
def history(
    member_id: str = MemberArgument,
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="How many rows (newest first)."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """A member's ledger rows, newest first: kind, points, locked points, lot, times, source."""
    from aftersales.services.operational import loyalty

    page = loyalty.history_page(_uow(db), member_id, limit=limit)
    rows = [{k: v for k, v in r.items() if k not in ("line", "program_version")} for r in page["items"]]
    render_records(rows, fmt, title=f"History of {member_id}")
    if page["next_cursor"] is not None:
        print(f"showing the newest {limit:,} rows (--limit for more)", file=sys.stderr)


@loyalty_app.command("award")
def award(
    member_id: str = MemberArgument,
    points: int = typer.Argument(..., help="Points to add (a negative number, after --, deducts).", show_default=False),
    key: str = KeyOption,
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the ledger)."),
    no_expiry: bool = typer.Option(False, "--no-expiry", help="Awarded points never expire."),
    now: str | None = NowOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Add points to a member (a manual adjustment), or deduct them (oldest expiry first)."""
    from aftersales.services.operational import loyalty

    done = loyalty.adjust(_uow(db), member_id, points, key=key, reason=reason, expires=not no_expiry, clock=_clock(now))
    if fmt == OutputFormat.json:
        print_json(asdict(done))
        return
    again = " (already done: nothing written)" if done.replayed else ""
    print(f"{member_id}: {points:+,} points{again}; {done.available:,} available")


@loyalty_app.command("redeem")
def redeem(
    member_id: str = MemberArgument,
    reward_id: str = typer.Argument(..., help="The reward's id in the program's catalogue.", show_default=False),
    key: str = KeyOption,
    quantity: int = typer.Option(1, "--quantity", min=1, max=1000, help="How many of the reward."),
    now: str | None = NowOption,
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Spend a member's points on a reward (oldest expiry first); exit 2 when they do not suffice."""
    from aftersales.services.operational import loyalty

    done = loyalty.redeem(_uow(db), member_id, reward_id, key=key, quantity=quantity, clock=_clock(now))
    if fmt == OutputFormat.json:
        print_json(loyalty.redemption_detail(done))
        return
    again = " (already redeemed with this key: nothing written)" if done.replayed else ""
    print(
        f"{done.redemption_id}: {member_id} redeemed {quantity} x {done.reward_name!r} for {done.points:,} points"
        f"{again}; {done.available:,} available"
    )


@loyalty_app.command("liability")
def liability(
    now: str | None = NowOption,
    days: int = typer.Option(30, "--days", min=1, max=3650, help="Tier movements over the last DAYS days."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Points liability (points held x cost per point), redemption rate, breakage, tiers."""
    from aftersales.services.operational import loyalty

    r = loyalty.report(_uow(db), clock=_clock(now), days=days)
    if fmt == OutputFormat.json:
        print_json(asdict(r))
        return
    skip = ("tiers", "tier_movements", "redemptions")
    render_records([{"measure": k, "value": v} for k, v in asdict(r).items() if k not in skip], fmt, title="Loyalty")
    if fmt == OutputFormat.table:
        render_records([{"tier": t, "members": n} for t, n in r.tiers.items()], fmt, title="Members per tier")


@loyalty_app.command("process")
def process(
    now: str | None = NowOption,
    batch: int = typer.Option(1000, "--batch", min=1, max=100_000, help="Members per transaction."),
    db: str | None = DbOption,
    fmt: OutputFormat = FormatOption,
) -> None:
    """Settle the store's orders and bonuses into the ledger (earn, lock, release, reverse, expire) and
    record tier changes; running it again writes nothing new."""
    from aftersales.entrypoints.cli.progress import progress
    from aftersales.services.operational import loyalty

    uow = _uow(db)
    with progress(bar=False) as bar:
        task = bar.add_task("processing members", total=None)
        done = loyalty.process(uow, clock=_clock(now), batch=batch, on_batch=lambda n: bar.update(task, advance=n))
    if fmt == OutputFormat.json:
        print_json(asdict(done))
        return
    kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(done.by_kind.items())) or "nothing new"
    print(
        f"processed {done.members:,} members as of {done.now.isoformat()}: {done.entries:,} rows ({kinds}), "
        f"{done.tier_changes:,} tier changes, {done.events:,} events"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(loyalty_app, name="loyalty")
