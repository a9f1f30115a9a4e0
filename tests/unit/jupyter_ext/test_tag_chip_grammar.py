"""The lab extension's tag chips validate cell tags as the bridge does: both check one shared table of cases.

``labextension/test/fixtures/tag_cases.json`` holds tags and the bridge's exact message (or null); this test
checks the bridge against it and ``labextension/test/tags.test.ts`` checks the chips' validation against it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.bridge.tags import parse_cell_tags
from shipyard.errors import InvalidInput

FIXTURE = Path(__file__).resolve().parents[3] / "labextension" / "test" / "fixtures" / "tag_cases.json"
TABLE = json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda c: " ".join(c["tags"]) or "empty")
def test_bridge_agrees_with_the_chip_table(case: dict[str, object]) -> None:
    tags = case["tags"]
    assert isinstance(tags, list)
    if case["error"] is None:
        parse_cell_tags(tags, TABLE["cell"])
    else:
        with pytest.raises(InvalidInput) as caught:
            parse_cell_tags(tags, TABLE["cell"])
        assert caught.value.message == case["error"]


def test_table_covers_every_bad_tag_rule() -> None:
    errors = " ".join(str(c["error"]) for c in TABLE["cases"] if c["error"])
    for rule in (
        "must start with a letter",
        "empty step name",
        "limit:RESOURCE:QUANTITY",
        "KEY:VALUE",
        "needs a value",
        "unknown tag",
        "two steps",
        "two roles",
    ):
        assert rule in errors, rule
