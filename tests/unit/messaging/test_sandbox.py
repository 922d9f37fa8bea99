"""Templates that try to reach Python objects, change their context, or exhaust the worker are refused
with a ValidationError that names the template, the line and the sandbox's reason."""

from __future__ import annotations

import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.messaging.context import personalisation
from aftersales.core.messaging.templates import TemplateCatalog, render_email


class Secretive:
    _token = "s3cret"
    visible = "ok"


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__['sys'] }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ obj._token }}",
    "{{ obj['_token'] }}",
    "{{ obj|attr('_token') }}",
    "{{ obj.visible.__class__ }}",
    "{{ '{0.__class__}'.format(obj) }}",
    "{{ profile.__class__ }}",
    "{{ trigger.__class__.__base__ }}",
    "{% set f = obj.__init__ %}{{ f }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ request.application.__globals__ if request is defined else ''.__class__ }}",
]


def render_source(source: str, **ctx: object):
    cat = TemplateCatalog.from_sources({"evil/en.html": f"---\nsubject: s\n---\n<p>before</p>\n{source}\n"})
    return render_email(cat.resolve("evil", "en"), ctx, locale="en")


@pytest.mark.parametrize("source", ESCAPES)
def test_escape_attempts_are_refused_with_the_line(source):
    ctx = personalisation({"customer_id": "c1", "name": "Ana"}, {}) | {"obj": Secretive()}
    with pytest.raises(ValidationError) as info:
        render_source(source, **ctx)
    message = str(info.value)
    assert message.startswith("e-mail template 'evil' (en), evil/en.html line 5: refused by the sandbox:"), message
    assert "unsafe" in message


def test_a_public_attribute_still_works():
    assert render_source("{{ obj.visible }}", obj=Secretive()).text == "before\n\nok\n"


@pytest.mark.parametrize(
    "source",
    ["{{ items.append(1) }}", "{{ data.update({'a': 1}) }}", "{{ data.pop('k') }}", "{% do items.clear() %}"],
)
def test_the_context_cannot_be_changed(source):
    with pytest.raises(ValidationError, match=r"refused by the sandbox|syntax error"):
        render_source(source, items=[1], data={"k": 1})


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ 10 ** 100000 }}", "exponent 100000 is over the sandbox's limit"),
        ("{{ n ** n }}", "exponent 5000 is over the sandbox's limit"),
        ("{{ 'x' * 1000000 }}", "repetition of more than 100000 items"),
        ("{{ [0] * n * n }}", "repetition of more than 100000 items"),
        ("{% for i in range(10000000) %}{% endfor %}", "Range too big"),
    ],
)
def test_templates_cannot_exhaust_memory_or_time(source, reason):
    with pytest.raises(ValidationError, match=reason) as info:
        render_source(source, n=5000)
    assert "evil/en.html line 5" in str(info.value)


def test_small_arithmetic_is_fine():
    assert render_source("{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ n * 2 }}", n=21).text == "before\n\n1024 ababab 42\n"
