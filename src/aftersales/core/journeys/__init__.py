"""Journeys, the pure core: documents, their JSON Schema and YAML form, the state machine and the send policy.

See ``docs/journeys.md`` ("Journey documents", "How an enrollment moves"). Modules:
:mod:`.durations` (``2d``), :mod:`.conditions` (branch conditions and trigger filters),
:mod:`.model` (the frozen document model, :data:`ACTION_KINDS`), :mod:`.schema` (the JSON Schema,
package data ``schema.json``), :mod:`.parse` / :mod:`.document` (document -> model -> document),
:mod:`.graph` (cycle rules), :mod:`.yaml_form` (YAML files), :mod:`.facts` (:data:`FACT_SOURCES`),
:mod:`.triggers` (filters, date rules, re-entry), :mod:`.machine` (:func:`start`, :func:`advance`,
:func:`holdout`), :mod:`.policy` (:func:`decide_send`). Nothing here does I/O or reads a clock.
"""

from aftersales.core.journeys.conditions import AllOf, AnyOf, Condition, Filter, Leaf, Not
from aftersales.core.journeys.document import journey_to_doc
from aftersales.core.journeys.durations import format_duration, parse_duration
from aftersales.core.journeys.facts import DATE_FIELDS, FACT_SOURCES, FactSource, fact_source
from aftersales.core.journeys.machine import (
    ACTIVE,
    COMPLETED,
    EXITED,
    Decision,
    Effect,
    Facts,
    Occurrence,
    Position,
    advance,
    exit_reason,
    holdout,
    start,
)
from aftersales.core.journeys.model import (
    ACTION_KINDS,
    ActionKind,
    ActionStep,
    BranchStep,
    DateTrigger,
    EventTrigger,
    ExitStep,
    FieldDateRule,
    Journey,
    NoOrderFor,
    SplitStep,
    Step,
    SubscriptionRenewal,
    WaitForEventStep,
    WaitStep,
    WaitUntilStep,
)
from aftersales.core.journeys.parse import parse_journey
from aftersales.core.journeys.policy import (
    SendDecision,
    SendPolicy,
    decide_send,
    parse_frequency_cap,
    parse_quiet_hours,
)
from aftersales.core.journeys.schema import journey_schema
from aftersales.core.journeys.triggers import date_rule_due, reentry_allowed, trigger_matches
from aftersales.core.journeys.yaml_form import load_journey_yaml

__all__ = [
    "ACTION_KINDS",
    "ACTIVE",
    "COMPLETED",
    "DATE_FIELDS",
    "EXITED",
    "FACT_SOURCES",
    "ActionKind",
    "ActionStep",
    "AllOf",
    "AnyOf",
    "BranchStep",
    "Condition",
    "DateTrigger",
    "Decision",
    "Effect",
    "EventTrigger",
    "ExitStep",
    "FactSource",
    "Facts",
    "FieldDateRule",
    "Filter",
    "Journey",
    "Leaf",
    "NoOrderFor",
    "Not",
    "Occurrence",
    "Position",
    "SendDecision",
    "SendPolicy",
    "SplitStep",
    "Step",
    "SubscriptionRenewal",
    "WaitForEventStep",
    "WaitStep",
    "WaitUntilStep",
    "advance",
    "date_rule_due",
    "decide_send",
    "exit_reason",
    "fact_source",
    "format_duration",
    "holdout",
    "journey_schema",
    "journey_to_doc",
    "load_journey_yaml",
    "parse_duration",
    "parse_frequency_cap",
    "parse_journey",
    "parse_quiet_hours",
    "reentry_allowed",
    "start",
    "trigger_matches",
]
