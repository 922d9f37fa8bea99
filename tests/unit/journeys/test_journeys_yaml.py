"""Journey YAML files: syntax errors name file, line and column; schema and semantic problems are
located in the file too; YAML 1.1 surprises (sexagesimal numbers, yes/no booleans, dates, repeated
keys) do not change what a journey means."""

from __future__ import annotations

import pytest

from aftersales.core.errors import ValidationError
from aftersales.core.journeys import ActionStep, SplitStep, WaitUntilStep, load_journey_yaml
from aftersales.core.journeys.yaml_form import load_yaml_document

HEAD = "name: j\ntrigger: {event: order.placed}\nsteps:\n"


def error(text: str, source: str = "journeys/j.yaml") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        load_journey_yaml(text, source)
    return caught.value


def test_a_syntax_error_names_file_line_and_column() -> None:
    exc = error("name: j\ntrigger:\n  event: [order.placed\nsteps: []\n")
    assert str(exc).startswith("journeys/j.yaml:4:6: not valid YAML (")
    assert [e.loc for e in exc.errors] == [()]
    assert exc.errors[0].message == str(exc)


def test_a_bad_indent_names_its_line() -> None:
    exc = error(HEAD + "  - id: a\n     type: wait\n")
    assert str(exc).startswith("journeys/j.yaml:5:10: not valid YAML (")


def test_schema_and_semantic_problems_carry_file_line_and_column() -> None:
    text = HEAD + (
        "  - id: a\n"  # line 4
        "    type: wait\n"
        "    duration: 2 days\n"  # line 6
        "  - {id: b, type: email}\n"  # line 7: template missing -> the step's own position
    )
    exc = error(text)
    assert [(e.loc, e.message.split(": ", 1)[0]) for e in exc.errors] == [
        (("steps", 0, "duration"), "journeys/j.yaml:6:5"),
        (("steps", 1, "template"), "journeys/j.yaml:7:5"),
    ]
    assert str(exc).startswith("journeys/j.yaml: invalid journey: line 6, column 5: steps/0/duration: '2 days' is not")
    semantic = error(HEAD + "  - {id: a, type: wait, duration: 1d, next: nowhere}\n")
    assert [e.message for e in semantic.errors] == ["journeys/j.yaml:4:39: no step has the id 'nowhere'"]


def test_the_source_name_is_in_every_message() -> None:
    for text in ("", "- a list\n", "name: [\n", HEAD + "  - {id: a, type: wat}\n"):
        exc = error(text, "my/file.yaml")
        assert str(exc).startswith("my/file.yaml")
        assert all(e.message.startswith("my/file.yaml:") for e in exc.errors)


def test_an_empty_file_and_two_documents_are_refused() -> None:
    assert (
        str(error("# nothing\n")) == "journeys/j.yaml:1:1: the file holds no journey (expected name, trigger and steps)"
    )
    assert "expected a single document" in str(error(HEAD + "  - {id: a, type: exit}\n---\nname: k\n"))


def test_a_repeated_key_is_an_error_not_a_silent_overwrite() -> None:
    exc = error("name: j\nname: k\ntrigger: {event: order.placed}\nsteps: [{id: a, type: exit}]\n")
    assert str(exc).startswith(
        "journeys/j.yaml:2:1: not valid YAML (while reading a mapping: the key 'name' is repeated)"
    )


def test_yaml_1_2_scalars() -> None:
    data, _ = load_yaml_document("a: 10:30\nb: no\nc: on\nd: 2026-03-01\ne: 010\nf: true\ng: 0.5\nh: 1e3\ni: ~\n")
    assert data == {
        "a": "10:30",
        "b": "no",
        "c": "on",
        "d": "2026-03-01",
        "e": 10,
        "f": True,
        "g": 0.5,
        "h": 1000.0,
        "i": None,
    }


def test_unquoted_times_and_variant_names_mean_what_they_say() -> None:
    j = load_journey_yaml(
        HEAD
        + "  - {id: w, type: wait_until, at: 10:30}\n"
        + "  - {id: s, type: split, variants: [{name: yes, next: m}, {name: no, next: m}]}\n"
        + "  - {id: m, type: email, template: t, category: transactional}\n"
    )
    wait, split, mail = j.steps
    assert isinstance(wait, WaitUntilStep) and f"{wait.at:%H:%M}" == "10:30"
    assert isinstance(split, SplitStep) and [v.name for v in split.variants] == ["yes", "no"]
    assert isinstance(mail, ActionStep) and mail.category == "transactional"


def test_no_python_objects_are_built() -> None:
    exc = error("name: !!python/object/apply:os.system ['true']\n")
    assert "not valid YAML" in str(exc) and "python/object/apply" in str(exc)


def test_aliases_cannot_blow_up_validation() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    text = "\n".join(lines) + "\nname: j\ntrigger: {event: order.placed}\nsteps: [{id: a, type: exit}]\nbomb: *a8\n"
    exc = error(text)
    assert [e.message for e in exc.errors] == ["journeys/j.yaml:1:1: the document holds more than 100000 values"]
