"""openapi.yaml is generated from the app and must not go stale."""

from pathlib import Path

from app.openapi import render_openapi

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_yaml_is_up_to_date():
    committed = (ROOT / "openapi.yaml").read_text()
    assert committed == render_openapi(), "openapi.yaml is stale: run `make openapi`"
