"""The sandbox every user-authored e-mail template runs in, its filters, and its error messages.

Template authors are marketers, not programmers we trust with the process: templates run in Jinja2's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`, which

* refuses attributes that start with ``_`` (``''.__class__``, ``cycler.__init__.__globals__``) and
  Python's internal attributes (``func_globals``, ``gi_frame``, ...): the expression raises
  :class:`~jinja2.sandbox.SecurityError`, which :func:`template_error` turns into a
  :class:`~aftersales.core.errors.ValidationError` naming the template, its locale and the line;
* refuses methods that modify lists, dicts and sets (``items.append(...)``): a template cannot
  change the context it was given;
* caps ``range()`` at 100,000 items (Jinja's ``MAX_RANGE``), and here also ``**`` (exponent at most
  1,000) and ``*`` on strings and lists (at most 100,000 items), so one template cannot exhaust a
  worker's memory or time.

Undefined variables are errors (:class:`~jinja2.StrictUndefined`): ``{{ frist_name }}`` fails with
``'frist_name' is undefined`` instead of sending "Hello ,". Optional values are tested with
``{% if loyalty_balance is defined %}`` or given a fallback with ``{{ first_name|default("there") }}``.
``None`` prints as nothing. HTML (names ending ``.html``) is auto-escaped; subjects and text parts
are not.

Filters formatting by the customer's locale (the ``locale`` variable, set by ``render_email``),
through Babel's CLDR data:

* ``{{ day|date }}``: a ``date``, ``datetime`` or ISO ``YYYY-MM-DD`` string; ``"long"`` by default
  (``March 5, 2025``; ``5. März 2025`` in ``de``); ``short``, ``medium``, ``full`` or a CLDR pattern;
* ``{{ amount|money("EUR") }}``: the currency from the argument, else the ``currency`` variable
  (``CHF 1'234.50`` in ``de_CH``); an amount without either is an error naming the line;
* ``{{ count|number }}``: a decimal number with the locale's separators (``1.234,5`` in ``de``).
"""

from __future__ import annotations

import operator
import traceback
from collections.abc import Callable, Collection
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, Template, TemplateNotFound, pass_context
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from aftersales.core.errors import FieldError, ValidationError

__all__ = ["LAYOUT_NAMES", "Layouts", "babel_locale", "compile_template", "template_error"]

#: Names under which a template extends its locale's layout: ``{% extends "layout.html" %}``.
LAYOUT_NAMES = ("layout.html", "layout.txt")

#: Layouts visible to a template: ``(name, filename, source)`` triples (a name from LAYOUT_NAMES, or
#: a partial's own file name such as ``_base.html``).
Layouts = tuple[tuple[str, str, str], ...]

MAX_EXPONENT = 1_000
MAX_REPEAT = 100_000

#: Exceptions a template (or a value it was given) can raise while rendering; anything else is a bug.
RENDER_ERRORS: tuple[type[Exception], ...] = (
    TemplateError,
    ArithmeticError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
)


class _LayoutLoader(BaseLoader):
    """Serves the layouts of one locale under their fixed names, with their real file names (so an
    error inside a layout names ``_layout/de.html``)."""

    def __init__(self, layouts: Layouts) -> None:
        self._layouts = {name: (filename, source) for name, filename, source in layouts}

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if template not in self._layouts:
            raise TemplateNotFound(template)
        filename, source = self._layouts[template]
        return source, filename, lambda: True


class _EmailSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float | Decimal) and abs(float(right)) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is over the sandbox's limit of {MAX_EXPONENT}")
            return operator.pow(left, right)
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int) and len(seq) * count > MAX_REPEAT:
                raise SecurityError(f"repetition of more than {MAX_REPEAT} items is over the sandbox's limit")
        return operator.mul(left, right)


@lru_cache(maxsize=256)
def babel_locale(locale: str) -> Any:
    """Babel's ``Locale`` for ``locale`` (``de_CH``, ``de-CH``), else its language's, else English."""
    from babel import Locale, UnknownLocaleError

    text = locale.replace("-", "_")
    for candidate in (text, text.split("_")[0], "en"):
        try:
            return Locale.parse(candidate)
        except (ValueError, UnknownLocaleError):
            continue
    raise AssertionError("unreachable: English is always known")  # pragma: no cover


def _locale_of(ctx: Context) -> Any:
    value = ctx.get("locale")
    return babel_locale(value if isinstance(value, str) and value else "en")


def _as_date(value: Any) -> date:
    if isinstance(value, date):  # a datetime is a date too: its calendar day is shown
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if "T" in value or " " in value.strip() else date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"date: {type(value).__name__} value is not a date or an ISO date string")


def _number(value: Any, filter_name: str) -> Decimal | int | float:
    if isinstance(value, bool):
        raise ValueError(f"{filter_name}: a boolean is not a number")
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            pass
    raise ValueError(f"{filter_name}: {type(value).__name__} value is not a number")


@pass_context
def _date_filter(ctx: Context, value: Any, format: str = "long") -> str:
    from babel.dates import format_date

    if value is None or value == "":
        return ""
    return str(format_date(_as_date(value), format=format, locale=_locale_of(ctx)))


@pass_context
def _money_filter(ctx: Context, value: Any, currency: str | None = None) -> str:
    from babel.numbers import format_currency

    if value is None or value == "":
        return ""
    code = currency or ctx.get("currency")
    if not isinstance(code, str) or not code:
        raise ValueError('money: no currency (write amount|money("EUR") or give a `currency` variable)')
    return str(format_currency(_number(value, "money"), code.upper(), locale=_locale_of(ctx)))


@pass_context
def _number_filter(ctx: Context, value: Any, format: str | None = None) -> str:
    from babel.numbers import format_decimal

    if value is None or value == "":
        return ""
    return str(format_decimal(_number(value, "number"), format=format, locale=_locale_of(ctx)))


def _autoescape(name: str | None) -> bool:
    return bool(name) and str(name).endswith(".html")


@lru_cache(maxsize=64)
def _environment(layouts: Layouts) -> Environment:
    env = _EmailSandbox(
        loader=_LayoutLoader(layouts),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        finalize=lambda value: "" if value is None else value,
    )
    env.filters.update(date=_date_filter, money=_money_filter, number=_number_filter)
    return env


@lru_cache(maxsize=2048)
def compile_template(layouts: Layouts, filename: str, source: str) -> Template:
    """``source`` compiled in the sandbox (cached: a template compiles once per process).

    ``filename`` names the template in errors and decides escaping (``.html`` is escaped); the
    template may ``{% extends %}`` one of ``layouts``. Syntax errors raise Jinja's
    :class:`~jinja2.TemplateSyntaxError` (see :func:`template_error`)."""
    env = _environment(layouts)
    code = env.compile(source, name=filename, filename=filename)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _location(exc: BaseException, filenames: Collection[str]) -> tuple[str, int | None]:
    if isinstance(exc, TemplateSyntaxError):
        return exc.filename or exc.name or "?", exc.lineno
    # Jinja rewrites a render error's traceback so that template frames carry the template's file
    # name and line: the innermost such frame is where the template failed.
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename in filenames:
            return frame.filename, frame.lineno
    return "?", None


def template_error(exc: BaseException, template: str, locale: str, filenames: Collection[str]) -> ValidationError:
    """The :class:`ValidationError` saying where and why e-mail template ``template`` failed.

    Its message reads ``e-mail template 'thank-you' (de), thank-you/de.html line 7: 'frist_name' is
    undefined``; sandbox refusals say ``refused by the sandbox: access to attribute '__class__' of
    'str' object is unsafe``. The one field error is located at ``("template", file, line)``."""
    filename, line = _location(exc, filenames)
    if isinstance(exc, SecurityError):
        reason = f"refused by the sandbox: {exc}"
    elif isinstance(exc, TemplateSyntaxError):
        reason = f"syntax error: {exc.message}"
    elif isinstance(exc, UndefinedError | TemplateError):
        reason = str(exc)
    else:
        reason = f"{type(exc).__name__}: {exc}"
    where = f"{filename} line {line}" if line else filename
    message = f"e-mail template {template!r} ({locale}), {where}: {reason}"
    return ValidationError(message, [FieldError(("template", filename, line or 0), reason)])
