"""Composition root: the one place that reads Settings and picks adapters."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aftersales import config

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aftersales.adapters.engines import Source
    from aftersales.adapters.sql.migrate import MigrationResult
    from aftersales.config import Settings
    from aftersales.core.clv.options import ClvOptions
    from aftersales.core.lookalike.options import LookalikeOptions
    from aftersales.services.analytical.clv import ClvPrediction
    from aftersales.services.analytical.lookalike import LookalikeReport
    from aftersales.services.analytical.scores import RefreshResult
    from aftersales.services.demo import DemoResult
    from aftersales.services.generate import GenerateResult
    from aftersales.services.importing import ImportResult
    from aftersales.services.operational.audiences import DestinationRecord, ExportResult, SyncResult
    from aftersales.services.operational.webhook_dispatch import DispatchLoop
    from aftersales.services.operational.webhooks import RetryPolicy
    from aftersales.services.ports import UnitOfWorkFactory

__all__ = [
    "ServicePlane",
    "audience_destinations",
    "database_url",
    "demo",
    "export_audience",
    "generate_store",
    "import_file",
    "init_store",
    "lookalike_report",
    "open_dataframes",
    "open_frames",
    "open_source",
    "predict_clv",
    "read_experiment_outcomes",
    "read_experiment_stats",
    "refresh",
    "refresh_scores",
    "service_plane",
    "settings",
    "store_engine",
    "sync_audience",
    "unit_of_work",
]


def settings() -> Settings:
    return get_settings()


def get_settings() -> Settings:
    """The process-wide settings (pydantic-settings is imported here, on first use: a lean command
    such as ``keys create --db FILE`` never pays for it)."""
    return config.get_settings()


def database_url(db: str | None = None) -> str:
    """The store URL: ``--db`` when given (a bare path means a SQLite file), else the settings'."""
    if not db:
        return get_settings().database_url
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser()}"


# -- analytical sources ---------------------------------------------------------------------------


def open_source(
    source: str | None = None, engine: str | None = None, *, db: str | None = None, spark: Any = None
) -> Source:
    """An analytical source (a context manager): ``source`` is a DB URL, a folder of
    ``<table>.parquet|.csv`` or one file; without it, the store (``db``, else the settings' URL)."""
    from aftersales.adapters.engines import open_source as _open

    return _open(source or database_url(db), engine, spark=spark)


def open_dataframes(frames: Mapping[str, Any]) -> Source:
    """An analytical source on in-memory dataframes (pandas, Arrow, Polars) keyed by contract table."""
    from aftersales.adapters.engines import open_dataframes as _open

    return _open(frames)


def open_frames(frames: Mapping[str, Any]) -> Source:
    """An analytical source on dataframes (pandas, Arrow, Polars) keyed by table, contract tables and
    ``customer_profiles`` alike (the segments facade), on DuckDB."""
    from aftersales.adapters.engines import open_tables

    return open_tables(frames, "the dataframes given")


def read_experiment_stats(path: str | Path) -> Any:
    """A summary-statistics file (CSV/Parquet) for ``experiment analyze --stats``."""
    from aftersales.adapters.sources.stats_files import read_stats

    return read_stats(path)


def read_experiment_outcomes(path: str | Path) -> Source:
    """A per-unit outcomes file (CSV/Parquet) for ``experiment analyze --outcomes``: an analytical
    source (a context manager) holding it as table ``outcomes``."""
    from aftersales.adapters.engines import open_tables
    from aftersales.adapters.sources.stats_files import read_outcomes

    return open_tables({"outcomes": read_outcomes(path)}, f"outcomes file {path}")


def lookalike_report(
    now: datetime,
    *,
    options: LookalikeOptions | None = None,
    source: str | None = None,
    engine: str | None = None,
    db: str | None = None,
) -> LookalikeReport:
    """``aftersales lookalike report``: the lookalike report on ``source`` (else the store ``db``) as of ``now``."""
    from aftersales.services.analytical.lookalike import lookalike_report as run

    if source is None:
        _analyze_store(database_url(db), ("customers", "orders", "order_lines"))  # fresh planner statistics
    with open_source(source, engine, db=db) as src:
        return run(src, now, options)


def predict_clv(
    options: ClvOptions,
    *,
    out: Path,
    out_format: str | None = None,
    source: str | None = None,
    engine: str | None = None,
    db: str | None = None,
) -> ClvPrediction:
    """``aftersales clv predict``: score every customer of ``source`` (default: the store) into the file
    ``out``, its format from ``out_format`` or the file's extension (checked before any work)."""
    from aftersales.adapters.sources.table_files import output_format, write_table
    from aftersales.services.analytical.clv import predict_clv as run

    fmt = output_format(out, out_format)
    tz = get_settings().reporting_timezone
    with open_source(source, engine, db=db) as src:
        return run(src, options, out=out, write=write_table, fmt=fmt, tz=tz)


def generate_store(
    customers: int,
    seed: int,
    as_of: date,
    out: Path,
    *,
    file_format: str = "parquet",
    on_step: Callable[[str], None] | None = None,
) -> GenerateResult:
    """``aftersales generate``: a synthetic store written to ``out`` as ``<table>.<format>`` + truth.json."""
    from aftersales.adapters.sources.store_files import write_store_files
    from aftersales.services.generate import generate_files

    return generate_files(
        customers, seed, as_of, out, write=write_store_files, file_format=file_format, on_step=on_step
    )


# -- store --------------------------------------------------------------------------------------


def store_engine(db: str | None = None) -> Engine:
    """The store's SQLAlchemy engine (``--db`` or the settings' URL)."""
    from aftersales.adapters.sql.engine import make_engine

    return make_engine(database_url(db))


def init_store(db: str | None = None) -> MigrationResult:
    """Create or upgrade the store to the newest migration."""
    from aftersales.adapters.sql.migrate import upgrade

    return upgrade(store_engine(db))


def import_file(
    table: str,
    path: str,
    *,
    db: str | None = None,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    create_missing_customers: bool = False,
    batch_size: int | None = None,
    on_batch: Callable[[ImportResult], None] | None = None,
    assume_timezone: str | None = None,
) -> ImportResult:
    """Import a file into the store (upgrading the store first); bad rows go to ``PATH.rejected.csv``.
    ``assume_timezone``: the zone of the file's time stamps that name none (else they are rejected)."""
    from aftersales.adapters.sources.formats import open_source_file
    from aftersales.adapters.sources.rejects import CsvRejectSink
    from aftersales.adapters.sql.maintenance import analyze
    from aftersales.adapters.sql.migrate import upgrade
    from aftersales.adapters.sql.writer import SqlImportStore
    from aftersales.services.importing import run_import

    conf = get_settings()
    source = open_source_file(
        table,
        path,
        fmt=fmt,
        mapping=mapping,
        batch_size=batch_size or conf.import_batch_size,
        reporting_timezone=conf.reporting_timezone,
        assume_timezone=assume_timezone,
    )
    engine = store_engine(db)
    try:
        upgrade(engine)
        result = run_import(
            table,
            source.batches,
            SqlImportStore(engine),
            CsvRejectSink(f"{path}.rejected.csv"),
            create_missing_customers=create_missing_customers or (fmt or "").lower() == "cdnow",
            on_batch=on_batch,
            times=source.times,
        )
        # PostgreSQL plans from statistics; a bulk-filled table has none until ANALYZE (issue 11).
        analyze(engine, [table, "customers"] if result.created_customers else [table])
    finally:
        engine.dispose()
    result.ignored_columns = source.ignored_columns
    return result


# --- Service plane (API, keys, webhooks) -------------------------------------------------------


class ServicePlane:
    """What the API and the key commands need, built on one store engine."""

    def __init__(self, uow: UnitOfWorkFactory, engine: Engine, dispatcher: DispatchLoop, url: str) -> None:
        self.uow, self.engine, self.dispatcher, self.url = uow, engine, dispatcher, url

    def open_source(self) -> Source:
        """An analytical source on this plane's store (a context manager; one per request)."""
        return open_source(self.url)

    def ready(self) -> str | None:
        """None when the store answers and is migrated to the head revision, else why not."""
        from aftersales.adapters.sql.migrate import current_revision, head_revision

        try:
            current = current_revision(self.engine)
        except Exception as exc:  # noqa: BLE001 - readiness reports any failure as "not ready"
            return f"store unreachable: {type(exc).__name__}"
        head = head_revision()
        return None if current == head else f"store at revision {current}, expected {head}: run `aftersales init`"

    def close(self) -> None:
        self.dispatcher.stop()
        self.engine.dispose()


def service_plane(
    db: str | None = None,
    *,
    retry: RetryPolicy | None = None,
    webhook_poll_s: float = 1.0,
    webhook_timeout_s: float = 10.0,
    webhook_allow_hosts: Sequence[str] | None = None,
    migrate: bool = False,
) -> ServicePlane:
    """The service plane on the store ``db`` (see :func:`database_url`); ``migrate`` upgrades it first.
    ``webhook_timeout_s`` is each webhook attempt's total deadline; ``webhook_allow_hosts`` (default:
    the settings') the non-public hosts and ranges webhooks may reach."""
    from aftersales.adapters.channels.webhooks import HttpWebhookSender
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.migrate import upgrade
    from aftersales.adapters.sql.repositories import unit_of_work_factory
    from aftersales.services.operational.webhook_destinations import DestinationPolicy
    from aftersales.services.operational.webhook_dispatch import DispatchLoop
    from aftersales.services.operational.webhooks import RetryPolicy

    url = database_url(db)
    pool = {} if url.startswith("sqlite") else {"pool_size": 10, "max_overflow": 20}
    engine = make_engine(url, **pool)
    if migrate:
        upgrade(engine)
    uow = unit_of_work_factory(engine)
    allow = get_settings().webhook_allow_hosts if webhook_allow_hosts is None else webhook_allow_hosts
    destinations = DestinationPolicy.parse(allow)
    sender = HttpWebhookSender(webhook_timeout_s, destinations)
    loop = DispatchLoop(uow, sender, retry or RetryPolicy(), poll_s=webhook_poll_s, destinations=destinations)
    return ServicePlane(uow, engine, loop, url)


def unit_of_work(db: str | None = None) -> UnitOfWorkFactory:
    """A unit-of-work factory on the store ``db`` (for commands that need no dispatcher)."""
    from aftersales.adapters.sql.engine import make_engine
    from aftersales.adapters.sql.repositories import unit_of_work_factory

    return unit_of_work_factory(make_engine(database_url(db)))


def refresh_scores(
    db: str | None = None, *, uow: UnitOfWorkFactory | None = None, options: ClvOptions | None = None
) -> RefreshResult:
    """``aftersales clv refresh`` / ``POST /v1/scores/refresh``: fit CLV on the store's orders and store
    every customer's score (``services.scores.refresh_scores`` with ``options``, default ones when
    None). Without ``uow`` the store is upgraded first and a unit of work opened on it."""
    from aftersales.services.analytical.scores import refresh_scores as run

    url = database_url(db)
    tz = get_settings().reporting_timezone
    engine = None
    if uow is None:
        from aftersales.adapters.sql.migrate import upgrade
        from aftersales.adapters.sql.repositories import unit_of_work_factory

        engine = store_engine(url)
        upgrade(engine)
        uow = unit_of_work_factory(engine)
    try:
        _analyze_store(url, ("customers", "orders"))  # fresh planner statistics before the fit reads them
        with open_source(url) as source:
            return run(uow, source, options, tz=tz)
    finally:
        if engine is not None:
            engine.dispose()


def _analyze_store(url: str, tables: tuple[str, ...]) -> None:
    """ANALYZE ``tables`` on a PostgreSQL store (no-op elsewhere; adapters.sql.maintenance)."""
    from aftersales.adapters.sql.maintenance import analyze

    engine = store_engine(url)
    try:
        analyze(engine, tables)
    finally:
        engine.dispose()


def refresh(
    db: str | None = None,
    *,
    as_of: date | None = None,
    source: str | None = None,
    engine: str | None = None,
    options: ClvOptions | None = None,
    strict_scores: bool = False,
) -> Any:
    """``aftersales refresh`` (and its alias ``clv refresh``): build every customer's profile in the
    engine and replace ``customer_profiles``, store the CLV scores as ``refresh_scores`` does, then
    refresh every saved segment's memberships over the fresh profiles.

    ``as_of`` (a day): the profiles are built as of its start in the reporting zone, and the stored
    scores are fitted up to the day before; without it, as of now (the clock is read here). The
    analytical data come from ``source``/``engine`` (default: the store ``db``); the profiles, scores
    and memberships are written to the store. When the CLV fit cannot run on the store (no orders,
    no convergence) the refresh goes on without storing scores and says why, unless ``strict_scores``
    (``clv refresh``, which exists to store them). Returns ``services.analytical.profiles.RefreshSummary``.
    """
    import time as _time
    from dataclasses import replace
    from datetime import UTC
    from datetime import time as day_start
    from uuid import uuid4

    from aftersales.adapters.sql.migrate import upgrade
    from aftersales.adapters.sql.repositories import unit_of_work_factory
    from aftersales.core.clv.options import ClvOptions
    from aftersales.core.errors import ConvergenceError, UnusableInputError, ValidationError
    from aftersales.services.analytical.profiles import RefreshSummary, calibration_day, refresh_profiles
    from aftersales.services.analytical.scores import refresh_scores as store_scores
    from aftersales.services.operational.segment_evaluation import refresh_memberships

    tz = get_settings().reporting_timezone
    ran_at = datetime.now(UTC)
    now = ran_at if as_of is None else datetime.combine(as_of, day_start(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
    opt = options or ClvOptions()
    url = database_url(db)
    scores_note: str | None = None
    store = store_engine(url)
    try:
        upgrade(store)
        uow = unit_of_work_factory(store)
        if source is None:
            _analyze_store(url, ("customers", "orders"))  # fresh planner statistics before the reads
        with open_source(source, engine, db=url) as src:
            profiles = refresh_profiles(uow, src, now, refreshed_at=ran_at, options=opt, tz=tz)
            t0 = _time.perf_counter()
            stored = opt if as_of is None else replace(opt, calibration_end=calibration_day(now, tz))
            try:
                # the profile build's fit, scored at the stored horizon, when it is the same fit
                scores = store_scores(uow, src, stored, tz=tz, fitted=profiles.build.clv_fit)
            except (UnusableInputError, ConvergenceError, ValidationError) as exc:
                if strict_scores:
                    raise
                scores, scores_note = None, str(exc).splitlines()[0]
            timings = {"scores_s": _time.perf_counter() - t0}
            t0 = _time.perf_counter()
            # The profiles just built, on the engine: PostgreSQL reads the store's table it just committed;
            # DuckDB scans the Arrow table in place (Spark gets it as a DataFrame).
            in_place = src.engine == "postgres" and source in (None, url)
            fresh = None if in_place else src.register(f"_profiles_{uuid4().hex}", profiles.build.table)
            memberships = refresh_memberships(uow, src, now, profiles=fresh)
            timings["segments_s"] = _time.perf_counter() - t0
    finally:
        store.dispose()
    return RefreshSummary(profiles, scores, memberships, timings, scores_note)


# -- the main job -------------------------------------------------------------------------------


def demo(
    *,
    customers: int = 20_000,
    seed: int = 7,
    out: str = "demo-store",
    db: str | None = None,
    as_of: date | None = None,
    journeys: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """``aftersales demo``: generate a store into ``out``, import it into the store, summarise it, and
    (``journeys``) run three shipped journeys over its last eight weeks (bootstrap/journey_demo.py)."""
    from aftersales.adapters.engines import open_source
    from aftersales.adapters.sources.store_files import write_store_files
    from aftersales.services.demo import run_demo, summarize
    from aftersales.services.generate import generate_files

    conf = get_settings()
    end = as_of or datetime.now(ZoneInfo(conf.reporting_timezone)).date()
    url = database_url(db)

    def summary() -> dict[str, list[dict[str, object]]]:
        with open_source(url) as source:
            return summarize(source, tz=conf.reporting_timezone)

    def act() -> dict[str, Any]:
        from aftersales.bootstrap.journey_demo import run_demo_journeys

        until = datetime.combine(end, datetime.min.time(), ZoneInfo(conf.reporting_timezone))
        done = run_demo_journeys(db=url, end=until, outbox=Path(out) / "outbox")
        return {"journeys_sent": done.sent, "journeys_report": done.report, "journeys_notes": done.notes}

    return run_demo(
        generate=lambda: generate_files(customers, seed, end, Path(out), write=write_store_files),
        import_table=lambda name, path: import_file(name, str(path), db=url),
        summarize=summary,
        act=act if journeys else None,
        on_step=on_step,
    )


# -- audiences ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _audience_store(db: str | None) -> Iterator[Any]:
    """The audience service's unit of work on the store (upgraded first), the engine closed after."""
    from aftersales.adapters.sql.migrate import upgrade
    from aftersales.adapters.sql.repositories.audiences import audience_store

    engine = store_engine(db)
    try:
        upgrade(engine)
        yield audience_store(engine)
    finally:
        engine.dispose()


def export_audience(segment: str, fmt: str, out: Path, *, db: str | None = None) -> ExportResult:
    """``aftersales audiences export``: the segment's members who may leave, written to ``out``
    (the format checked against its extension before the store is opened)."""
    from aftersales.adapters.sources.audience_files import open_audience_writer
    from aftersales.core.audiences import file_kind
    from aftersales.services.operational import audiences

    file_kind(out, fmt)
    with _audience_store(db) as store:
        return audiences.export_audience(store, segment, fmt, out, open_writer=open_audience_writer)


def audience_destinations(
    action: str, *, name: str | None = None, url: str | None = None, db: str | None = None
) -> list[DestinationRecord]:
    """``aftersales audiences destinations add|list|delete``: the records added, listed or deleted.
    URLs are checked against ``AFTERSALES_WEBHOOK_ALLOW_HOSTS`` like webhook subscriptions."""
    from aftersales.services.operational import audiences
    from aftersales.services.operational.webhook_destinations import DestinationPolicy

    with _audience_store(db) as store:
        if action == "add":
            policy = DestinationPolicy.parse(get_settings().webhook_allow_hosts)
            return [audiences.add_destination(store, name or "", url or "", destinations=policy)]
        if action == "delete":
            return [audiences.delete_destination(store, name or "")]
        return audiences.list_destinations(store)


def sync_audience(segment: str, destination: str, *, db: str | None = None, timeout_s: float = 30.0) -> SyncResult:
    """``aftersales audiences sync``: mirror the segment's audience to the destination (signed,
    batched, idempotent), through the webhooks' SSRF-guarded sender."""
    from aftersales.adapters.channels.webhooks import HttpWebhookSender
    from aftersales.services.operational import audiences
    from aftersales.services.operational.webhook_destinations import DestinationPolicy

    sender = HttpWebhookSender(timeout_s, DestinationPolicy.parse(get_settings().webhook_allow_hosts))
    try:
        with _audience_store(db) as store:
            return audiences.sync_audience(store, segment, destination, sender=sender)
    finally:
        sender.close()
