"""Schemas that restate a list kept in code stay equal to it."""

from __future__ import annotations

import json

from hotfix_tui.core.events import EVENTS
from hotfix_tui.core.models import HotfixState, RunStatus
from tests.schemas import SCHEMA_DIR


def _load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text())


def test_every_event_and_its_data_fields_are_in_the_schema():
    schema = _load("hook-event.json")["$defs"]["hook_event"]
    assert schema["properties"]["event"]["enum"] == list(EVENTS)
    data = {rule["if"]["properties"]["event"]["const"]:
            rule["then"]["properties"]["data"]["required"] for rule in schema["allOf"]}
    assert data == {name: list(fields) for name, fields in EVENTS.items()}


def test_states_and_statuses_match_the_code():
    common = _load("common.json")["$defs"]
    assert common["hotfix_state"]["enum"] == [str(s) for s in HotfixState]
    assert common["run_status"]["enum"] == [str(s) for s in RunStatus]
