"""The journey templates shipped with the package (issue 15 item 7; ``aftersales journeys init``).

Each template is a commented YAML journey in ``aftersales/templates/journeys/<name>.yaml``, valid as
shipped (a test parses every one): post-purchase thank-you and education, product registration and
warranty, maintenance reminder, review request, win-back, upgrade offer to the lookalike segment,
subscription renewal reminder and detractor follow-up. A template is started by copying its text
(comments included) into the user's own folder, kept in git and applied from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from aftersales.core.errors import NotFoundError
from aftersales.core.journeys import Journey, load_journey_yaml

__all__ = ["JourneyTemplate", "get_template", "list_templates"]

_SUFFIX = ".yaml"


@dataclass(frozen=True)
class JourneyTemplate:
    """One shipped template: its name (the file's stem, also the journey's name), the journey it
    defines, and its text as shipped (comments included)."""

    name: str
    description: str
    text: str
    journey: Journey


def _folder() -> Traversable:
    return resources.files("aftersales").joinpath("templates", "journeys")


def _read(entry: Traversable) -> JourneyTemplate:
    text = entry.read_text(encoding="utf-8")
    name = entry.name.removesuffix(_SUFFIX)
    journey = load_journey_yaml(text, f"template {name}")
    return JourneyTemplate(name, journey.description, text, journey)


def list_templates() -> list[JourneyTemplate]:
    """Every shipped template, by name."""
    entries = [e for e in _folder().iterdir() if e.is_file() and e.name.endswith(_SUFFIX)]
    return [_read(e) for e in sorted(entries, key=lambda e: e.name)]


def get_template(name: str) -> JourneyTemplate:
    """The shipped template ``name`` (``NotFoundError`` listing the names there are)."""
    entry = _folder().joinpath(name + _SUFFIX)
    if "/" in name or "\\" in name or not entry.is_file():
        names = ", ".join(t.name for t in list_templates())
        raise NotFoundError(f"no journey template {name!r} (templates: {names})")
    return _read(entry)
