import pyarrow as pa
import pytest

from aftersales.core.contract import TABLES, arrow_schema, get_table
from aftersales.core.errors import ContractError


def test_every_foreign_key_points_at_a_key_column():
    for table in TABLES.values():
        for column, (parent, parent_column) in table.parents.items():
            assert parent in TABLES, (table.name, column)
            assert TABLES[parent].key == (parent_column,), (table.name, column)


def test_keys_are_columns_and_required():
    for table in TABLES.values():
        for k in table.key:
            assert k in table.column_names
            assert k in table.required_columns


def test_arrow_schema_uses_utc_timestamps_and_float_money():
    schema = arrow_schema("orders")
    assert schema.field("ordered_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("revenue").type == pa.float64()
    assert not schema.field("order_id").nullable


def test_unknown_table_lists_the_valid_ones():
    with pytest.raises(ContractError, match="customers"):
        get_table("nope")


def test_data_contract_doc_is_current():
    from pathlib import Path

    from aftersales.core.contract_doc import render

    doc = Path(__file__).parents[2] / "docs" / "data-contract.md"
    assert doc.read_text() == render(), "regenerate: python -m aftersales.core.contract_doc > docs/data-contract.md"


def test_survey_scales_are_defined_once_in_the_contract():
    """The importer reads them from the score column, the generator clips to them (the API's check,
    services' ``SCORE_SCALES``, is the same dict)."""
    from aftersales.core.contract import SURVEY_SCALES, get_table
    from aftersales.core.synthetic import surveys

    score = get_table("survey_responses").column("score")
    assert score.scale_by == "kind"
    assert score.scales == (("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7))
    assert (SURVEY_SCALES["nps"], SURVEY_SCALES["csat"]) == (surveys.NPS_SCALE, surveys.CSAT_SCALE)  # the generator
