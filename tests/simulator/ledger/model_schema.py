"""Validates rendered dicts against the definitions of Amazon's Swagger models in the shared fixtures."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema

SHARED_FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "shared"


@cache
def _definitions(model_file: str) -> dict:
    return json.loads(Path(SHARED_FIXTURES / "spapi-models" / model_file).read_text())["definitions"]


def validate(instance: object, model_file: str, definition: str) -> None:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _definitions(model_file)}
    jsonschema.Draft4Validator(schema).validate(instance)
