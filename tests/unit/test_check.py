"""`talkoot check` compares the tables each read model names: every table of the read models'
DDL is named by exactly one of them, so none is left out of the comparison."""

from __future__ import annotations

import re

from projections.schema import DDL, tables_ddl
from services.check import models_by_name, tables_of

# The projector's own bookkeeping beside the read models, not a read model's rows.
BOOKKEEPING = {"tracking", "replayed"}


def test_every_table_of_the_read_models_ddl_is_named_by_exactly_one_read_model():
    created = re.findall(r"CREATE TABLE IF NOT EXISTS \{s\}\.(\w+)", DDL + tables_ddl())
    named = [table for model in models_by_name().values() for table in tables_of(model)]
    assert len(named) == len(set(named)), "a table named by two read models"
    assert set(named) == set(created) - BOOKKEEPING
