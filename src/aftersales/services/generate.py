"""Use case: generate a synthetic store and write it as files (``aftersales generate``).

The files are written through a port (``StoreFileWriter``), implemented by
``adapters/sources/store_files.write_store_files`` and chosen by the entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from aftersales.core.contract import TABLES
from aftersales.core.errors import UnusableInputError, ValidationError
from aftersales.core.synthetic import PHASES, generate_store

__all__ = ["GenerateResult", "StoreFileWriter", "generate_files", "step_count"]

MAX_CUSTOMERS = 100_000_000


class StoreFileWriter(Protocol):
    def __call__(
        self,
        tables: Mapping[str, pa.Table],
        truth: Mapping[str, object],
        customer_truth: pa.Table | None,
        directory: Path,
        *,
        fmt: str = ...,
        on_table: Callable[[str], None] | None = ...,
    ) -> dict[str, Path]: ...


@dataclass(frozen=True)
class GenerateResult:
    out: Path
    file_format: str
    n_customers: int
    seed: int
    as_of: date
    row_counts: dict[str, int]
    paths: dict[str, Path]

    def records(self) -> list[dict[str, object]]:
        """One row per written table: name, rows and file."""
        return [{"table": t, "rows": n, "file": str(self.paths.get(t, ""))} for t, n in self.row_counts.items()]


def step_count() -> int:
    """Progress steps of :func:`generate_files`: the generation phases, then one per written file."""
    return len(PHASES) + len(TABLES) + 1


def generate_files(
    n_customers: int,
    seed: int,
    as_of: date,
    out: Path,
    *,
    write: StoreFileWriter,
    file_format: str = "parquet",
    on_step: Callable[[str], None] | None = None,
) -> GenerateResult:
    """Draw a store of ``n_customers`` (deterministic for ``seed``) ending at ``as_of``; write it to ``out``."""
    if not 1 <= n_customers <= MAX_CUSTOMERS:
        raise ValidationError(f"--customers must be between 1 and {MAX_CUSTOMERS:,}, got {n_customers:,}")
    if seed < 0:
        raise ValidationError(f"--seed must be zero or positive, got {seed}")
    if out.exists() and not out.is_dir():
        raise UnusableInputError(f"{out} exists and is not a folder")
    step = on_step or (lambda _name: None)
    store = generate_store(n_customers, seed, as_of, on_phase=step)
    paths = write(
        store.tables,
        store.truth,
        store.customer_truth,
        out,
        fmt=file_format,
        on_table=lambda name: step(f"write {name}"),
    )
    return GenerateResult(
        out=out,
        file_format=file_format,
        n_customers=n_customers,
        seed=seed,
        as_of=as_of,
        row_counts={**store.row_counts(), "truth_customers": store.customer_truth.num_rows},
        paths=paths,
    )
