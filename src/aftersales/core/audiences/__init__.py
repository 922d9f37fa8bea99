"""Audiences out: identifier normalisation and hashing per platform (:mod:`.identifiers`), consent and
file layouts (:mod:`.layouts`), and the mirror sync's diff and batches (:mod:`.sync`). Pure: no I/O,
no clock. User doc: docs/audiences.md (with the platforms' published rules cited)."""

from aftersales.core.audiences.identifiers import (
    country_code,
    e164,
    google_email,
    google_name,
    meta_email,
    meta_name,
    meta_phone,
    sha256_hex,
    split_name,
)
from aftersales.core.audiences.layouts import (
    COLUMNS,
    EXPORT_FORMATS,
    LEFT_OUT_REASONS,
    MemberBatch,
    Prepared,
    file_kind,
    prepare,
)
from aftersales.core.audiences.sync import BatchPlan, acknowledged_ops, batch_body, diff, fingerprint, plan_batches

__all__ = [
    "COLUMNS",
    "EXPORT_FORMATS",
    "LEFT_OUT_REASONS",
    "BatchPlan",
    "MemberBatch",
    "Prepared",
    "acknowledged_ops",
    "batch_body",
    "country_code",
    "diff",
    "e164",
    "file_kind",
    "fingerprint",
    "google_email",
    "google_name",
    "meta_email",
    "meta_name",
    "meta_phone",
    "plan_batches",
    "prepare",
    "sha256_hex",
    "split_name",
]
