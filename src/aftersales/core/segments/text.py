"""The readable text form of a segment: a recursive-descent (Pratt) parser and its renderer.

Grammar (EBNF; keywords in any case; ``or`` binds loosest, then ``and``, then ``not``)::

    condition  = disjunct { "or" disjunct } ;
    disjunct   = conjunct { "and" conjunct } ;
    conjunct   = "not" conjunct | "(" condition ")" | call | test ;
    test       = FIELD [ compare_op value
                       | [ "not" ] "in" "(" value { "," value } ")"
                       | "is" [ "not" ] "null"
                       | [ "not" ] "between" value "and" value
                       | "contains" STRING ] ;             (* a bare FIELD must be boolean *)
    compare_op = "=" | "!=" | "<" | "<=" | ">" | ">=" ;
    value      = STRING | [ "-" ] NUMBER | "true" | "false" | "date" STRING | "timestamp" STRING
               | "now" [ ( "+" | "-" ) duration ] ;
    duration   = INTEGER UNIT ;                           (* UNIT: seconds, minutes, hours, days, weeks *)
    call       = FUNCTION "(" [ argument { "," argument } ] ")" ;
    argument   = [ NAME "=" ] ( STRING | INTEGER | duration ) ;

Functions (see :data:`~aftersales.core.segments.ast.FUNCTIONS`): ``ordered(category = ..., product = ...,
within = ..., at_least = ...)``, ``no_order_for(DURATION)``, ``event('name', within = ..., at_least = ...)``,
``owns('product_id')``. Syntax errors stop at the first one; unknown fields and type mismatches are
collected, and each names its line, column and a caret excerpt.

>>> parse("email_consent and not orders > 1")
And(items=(BoolField(field='email_consent'), Not(item=Compare(field='orders', op='>', value=1))))
>>> to_text(parse("(orders>1 OR aov<10.5) and ordered(within=2 weeks, category='bikes')"))
"(orders > 1 or aov < 10.5) and ordered(category = 'bikes', within = 14 days)"
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from aftersales.core.contract import MAX_YEAR, MIN_YEAR, YEARS_MESSAGE, contract_utc
from aftersales.core.segments.ast import (
    COMPARE_OPS,
    FUNCTIONS,
    MAX_DEPTH,
    UNIT_SECONDS,
    And,
    Behaviour,
    Between,
    BoolField,
    Compare,
    CompareOp,
    Condition,
    Contains,
    Duration,
    Function,
    InList,
    IsNull,
    Not,
    Now,
    Or,
    Param,
    Value,
    behaviour_args,
)
from aftersales.core.segments.check import (
    DefinitionError,
    between_problem,
    bool_problem,
    combined,
    compare_problem,
    contains_problem,
    in_problem,
    unknown_field_message,
    value_text,
)
from aftersales.core.segments.fields import FIELDS
from aftersales.core.segments.lexer import Token, located_error, tokenize

__all__ = ["parse", "to_text"]

_AND_BP, _OR_BP, _NOT_BP = 2, 1, 3
_COMPARE: dict[str, CompareOp] = {op: op for op in COMPARE_OPS}
_UNITS_HINT = "a unit (seconds, minutes, hours, days or weeks)"


def _describe(tok: Token) -> str:
    if tok.kind == "eof":
        return "the end"
    return f"{tok.text!r}" if tok.kind != "string" else f"the string {tok.text}"


class _Parser:
    def __init__(self, source: str, name: str) -> None:
        self.source = source
        self.name = name
        self.tokens = tokenize(source, name)
        self.pos = 0
        self.problems: list[DefinitionError] = []
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.peek()
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return tok

    def at(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind in ("keyword", "symbol") and tok.text == text

    def error(self, tok: Token, message: str) -> DefinitionError:
        return located_error(self.source, tok.offset, tok.length, message, self.name)

    def expected(self, what: str) -> DefinitionError:
        tok = self.peek()
        return self.error(tok, f"expected {what}, found {_describe(tok)}")

    def expect(self, text: str, what: str | None = None) -> Token:
        if not self.at(text):
            raise self.expected(what or repr(text))
        return self.advance()

    def problem(self, start: Token, message: str) -> None:
        """Record a type problem spanning from ``start`` to the last consumed token."""
        last = self.tokens[self.pos - 1]
        self.problems.append(
            located_error(self.source, start.offset, last.offset + last.length - start.offset, message, self.name)
        )

    # -- conditions ----------------------------------------------------------------------------
    def parse(self) -> Condition:
        if self.peek().kind == "eof":
            raise self.expected("a condition")
        cond = self.expr(_OR_BP)
        if self.peek().kind != "eof":
            raise self.expected("'and', 'or' or the end" if not self.at(")") else "the end (this ')' closes nothing)")
        if self.problems:
            raise combined([str(p) for p in self.problems], [e for p in self.problems for e in p.errors])
        return cond

    def expr(self, min_bp: int) -> Condition:
        left = self.prefix()
        while True:
            tok = self.peek()
            bp = {"and": _AND_BP, "or": _OR_BP}.get(tok.text) if tok.kind == "keyword" else None
            if bp is None or bp < min_bp:
                return left
            items = [left]
            while self.at(tok.text):
                self.advance()
                items.append(self.expr(bp + 1))
            left = And(tuple(items)) if tok.text == "and" else Or(tuple(items))

    def prefix(self) -> Condition:
        tok = self.peek()
        if self.at("not") or self.at("("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(tok, f"nested deeper than {MAX_DEPTH} levels of 'not' and parentheses")
            self.advance()
            inner: Condition
            if tok.text == "not":
                inner = Not(self.expr(_NOT_BP))
            else:
                inner = self.expr(_OR_BP)
                self.expect(")", "')' or 'and' / 'or'")
            self.depth -= 1
            return inner
        if tok.kind == "ident":
            return self.call() if self.at("(", 1) else self.test()
        raise self.expected("a condition (a field, a function such as ordered(...), 'not' or '(')")

    def test(self) -> Condition:
        start = self.advance()
        name = str(start.value)
        field = FIELDS.get(name)
        if field is None:
            self.problems.append(self.error(start, unknown_field_message(name)))
        node: Condition
        tok = self.peek()
        if tok.kind == "symbol" and tok.text in _COMPARE:
            self.advance()
            op = _COMPARE[tok.text]
            node = Compare(name, op, self.value())
            problem = field and compare_problem(field, op, node.value)
        elif self.at("in") or (self.at("not") and self.at("in", 1)):
            negated = self.at("not")
            self.pos += 1 + negated
            node = InList(name, self.value_list(), negated)
            problem = field and in_problem(field, node.values)
        elif self.at("between") or (self.at("not") and self.at("between", 1)):
            negated = self.at("not")
            self.pos += 1 + negated
            low = self.value()
            self.expect("and", "'and' between the two ends of 'between'")
            node = Between(name, low, self.value(), negated)
            problem = field and between_problem(field, node.low, node.high)
        elif self.at("is"):
            self.advance()
            negated = self.at("not")
            self.pos += negated
            self.expect("null", "'null' or 'not null' after 'is'")
            return IsNull(name, negated)
        elif self.at("contains"):
            self.advance()
            node = Contains(name, self.string("a 'quoted string' after 'contains'"))
            problem = field and contains_problem(field)
        elif self.at("not"):
            raise self.error(self.peek(1), f"expected 'in' or 'between' after 'not', found {_describe(self.peek(1))}")
        else:
            node = BoolField(name)
            problem = field and bool_problem(field)
        if problem:
            self.problem(start, problem)
        return node

    # -- values --------------------------------------------------------------------------------
    def value_list(self) -> tuple[Value, ...]:
        self.expect("(", "'(' to open the list of values")
        values = [self.value()]
        while self.at(","):
            self.advance()
            values.append(self.value())
        self.expect(")", "',' or ')' in the list of values")
        return tuple(values)

    def string(self, what: str) -> str:
        if self.peek().kind != "string":
            raise self.expected(what)
        return str(self.advance().value)

    def value(self) -> Value:
        tok = self.peek()
        if tok.kind == "string":
            return str(self.advance().value)
        if tok.kind == "number" or (self.at("-") and self.peek(1).kind == "number"):
            sign = -1 if self.at("-") else 1
            self.pos += sign == -1
            number = self.advance().value
            assert isinstance(number, int | float)
            return sign * number
        if self.at("true") or self.at("false"):
            return self.advance().text == "true"
        if self.at("date"):
            self.advance()
            return self.date_literal()
        if self.at("timestamp"):
            self.advance()
            return self.timestamp_literal()
        if self.at("now"):
            self.advance()
            if self.at("+") or self.at("-"):
                sign = -1 if self.advance().text == "-" else 1
                return Now(sign * self.duration().seconds)
            return Now()
        if self.at("null"):
            raise self.error(tok, "null is not a value: test a missing value with 'is null' or 'is not null'")
        raise self.expected("a value ('text', a number, true, false, date '...', timestamp '...' or now)")

    def date_literal(self) -> date:
        tok = self.peek()
        text = self.string("a date as 'YYYY-MM-DD' after 'date'")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise self.error(tok, f"not a date: {text!r} (write 'YYYY-MM-DD')") from None
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise self.error(tok, f"date must fall in the years {MIN_YEAR}-{MAX_YEAR}")
        return day

    def timestamp_literal(self) -> datetime:
        tok = self.peek()
        text = self.string("a time stamp as 'YYYY-MM-DDTHH:MM:SS+00:00' after 'timestamp'")
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise self.error(tok, f"not a time stamp: {text!r} (write ISO 8601 with a zone)") from None
        if when.tzinfo is None:
            raise self.error(tok, f"time stamp {text!r} needs a zone (e.g. +00:00 or Z)")
        try:
            return contract_utc(when).replace(tzinfo=UTC)
        except ValueError:
            raise self.error(tok, YEARS_MESSAGE) from None

    def duration(self) -> Duration:
        tok = self.peek()
        if tok.kind != "number" or not isinstance(tok.value, int):
            raise self.expected("a whole number for a duration (e.g. 90 days)")
        self.advance()
        unit = self.peek()
        name = unit.text if unit.kind == "ident" else ""
        size = UNIT_SECONDS.get(name) or UNIT_SECONDS.get(name + "s")
        if size is None:
            raise self.expected(_UNITS_HINT)
        self.advance()
        if not 0 < tok.value * size <= Duration.LIMIT:
            raise self.error(tok, "a duration must be longer than zero and at most 300 years")
        return Duration(tok.value * size)

    # -- behavioural functions -----------------------------------------------------------------
    def call(self) -> Behaviour:
        start = self.advance()
        fn = FUNCTIONS.get(str(start.value))
        if fn is None:
            names = ", ".join(FUNCTIONS)
            raise self.error(start, f"unknown function {start.text!r}; functions: {names} (or a field before '(')")
        self.expect("(")
        args: dict[str, object] = {}
        named = False
        while not self.at(")"):
            if args and not self.at(","):
                raise self.expected(f"',' or ')' in {fn.name}(...)")
            if args:
                self.advance()
            name_tok = self.peek()
            if name_tok.kind == "ident" and self.at("=", 1):
                param = fn.param(name_tok.text)
                if param is None:
                    valid = ", ".join(p.name for p in fn.params)
                    raise self.error(name_tok, f"{fn.name}() has no argument {name_tok.text!r}; it takes: {valid}")
                self.pos += 2
                named = True
            elif named or len(args) >= fn.positional:
                raise self.expected(f"a named argument (name = value) in {fn.name}(...)")
            else:
                param = fn.params[len(args)]
            if param.name in args:
                raise self.error(name_tok, f"{fn.name}() got {param.name!r} twice")
            args[param.name] = self.argument(fn, param)
        self.advance()
        missing = [p.name for p in fn.params if p.required and p.name not in args]
        if missing:
            raise self.error(start, f"{fn.name}() needs {', '.join(missing)}")
        return fn.build(args)

    def argument(self, fn: Function, param: Param) -> object:
        if param.kind == "text":
            return self.string(f"a 'quoted string' for {param.name} in {fn.name}(...)")
        if param.kind == "duration":
            return self.duration()
        tok = self.peek()
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 1:
            raise self.expected(f"a whole number of 1 or more for {param.name}")
        return self.advance().value


def parse(source: str, name: str = "where") -> Condition:
    """The AST of a text condition; :class:`DefinitionError` (exit 2 / HTTP 422) names the line and column.

    ``name`` is the first element of each error's ``loc`` (the option or property that held the text).
    """
    return _Parser(source, name).parse()


def _prec(node: Condition) -> int:
    return _OR_BP if isinstance(node, Or) else _AND_BP if isinstance(node, And) else _NOT_BP


def _wrap(node: Condition, max_bare: int) -> str:
    text = to_text(node)
    return f"({text})" if _prec(node) <= max_bare else text


def _argument(param: Param, value: object) -> str:
    if isinstance(value, Duration):
        return value.text
    if isinstance(value, str):
        return value_text(value)
    return str(value)


def to_text(node: Condition) -> str:
    """The canonical text of an AST; :func:`parse` of it gives the same AST back."""
    if isinstance(node, Or):
        return " or ".join(_wrap(i, _OR_BP) for i in node.items)
    if isinstance(node, And):
        return " and ".join(_wrap(i, _AND_BP) for i in node.items)
    if isinstance(node, Not):
        return f"not {_wrap(node.item, _AND_BP)}"
    if isinstance(node, Compare):
        return f"{node.field} {node.op} {value_text(node.value)}"
    if isinstance(node, InList):
        values = ", ".join(value_text(v) for v in node.values)
        return f"{node.field} {'not in' if node.negated else 'in'} ({values})"
    if isinstance(node, IsNull):
        return f"{node.field} is {'not ' if node.negated else ''}null"
    if isinstance(node, Between):
        neg = "not " if node.negated else ""
        return f"{node.field} {neg}between {value_text(node.low)} and {value_text(node.high)}"
    if isinstance(node, Contains):
        return f"{node.field} contains {value_text(node.value)}"
    if isinstance(node, BoolField):
        return node.field
    fn, args = behaviour_args(node)
    parts = [_argument(p, v) if i < fn.positional else f"{p.name} = {_argument(p, v)}" for i, (p, v) in enumerate(args)]
    return f"{fn.name}({', '.join(parts)})"
