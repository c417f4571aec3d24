"""Derive what the flattener needs to know about Finances v0 from Amazon's model (financesV0.json).

Run `python -m transforms.finances.v0_model_gen PATH/TO/financesV0.json` to regenerate `v0_model.py`; a test
fails when the committed module and the model disagree, so a new event list or money field in a newer model
is noticed instead of silently dropped (it would still land, via the generic walk, but unclassified).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# (property kind, target definition): kind is "currency", "object" (target = definition), "array" (target =
# item definition) or "scalar" (target = "").
PropertyShape = tuple[str, str]


def _ref_name(schema: Mapping[str, Any]) -> str:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""


def _resolve(definitions: Mapping[str, Any], name: str) -> tuple[str, str]:
    """(kind, target) of a named definition: arrays resolve to their item definition."""
    schema = definitions[name]
    if name == "Currency":
        return "currency", ""
    if schema.get("type") == "array":
        return "array", _ref_name(schema.get("items", {}))
    if schema.get("type") == "object" or "properties" in schema:
        return "object", name
    return "scalar", ""


def _property_shape(definitions: Mapping[str, Any], schema: Mapping[str, Any]) -> PropertyShape:
    ref = _ref_name(schema)
    if ref:
        return _resolve(definitions, ref)
    if schema.get("type") == "array":
        item_ref = _ref_name(schema.get("items", {}))
        if item_ref:
            kind, target = _resolve(definitions, item_ref)
            return ("array", target) if kind == "object" else ("array", "")
        return "array", ""
    return "scalar", ""


def build_v0_knowledge(model: Mapping[str, Any]) -> dict[str, Any]:
    """EVENT_LISTS, DEFINITIONS and COMPONENT_TYPE_FIELDS, as plain data, from the model."""
    definitions: Mapping[str, Any] = model["definitions"]
    event_lists: dict[str, str] = {}
    for list_name, schema in definitions["FinancialEvents"]["properties"].items():
        kind, target = _property_shape(definitions, schema)
        if kind != "array" or not target:
            raise ValueError(f"{list_name} is not a list of event objects in the model")
        event_lists[list_name] = target

    shapes: dict[str, dict[str, PropertyShape]] = {}
    pending = sorted(set(event_lists.values()) | {"FinancialEventGroup"})
    while pending:
        name = pending.pop()
        if name in shapes:
            continue
        properties = definitions[name].get("properties", {})
        shapes[name] = {prop: _property_shape(definitions, schema) for prop, schema in properties.items()}
        pending.extend(
            target
            for kind, target in shapes[name].values()
            if kind in ("object", "array") and target and target not in shapes
        )

    # A component is a definition holding exactly one amount plus a `<Something>Type` naming it
    # (ChargeComponent.ChargeType, FeeComponent.FeeType, Promotion.PromotionType, DirectPayment...).
    # Event definitions are excluded: their own `*Type` (AdjustmentType, TransactionType, ...) describes the
    # whole event and lands in `event_subtype`, while each flat amount keeps its field name as its type.
    event_definitions = set(event_lists.values())
    component_type_fields: dict[str, str] = {}
    event_subtype_fields: dict[str, list[str]] = {}
    for name, properties in shapes.items():
        if name in event_definitions:
            subtype_fields = [
                p for p, (kind, _) in properties.items() if kind == "scalar" and p.endswith("Type")
            ]
            event_subtype_fields[name] = sorted(subtype_fields)
            continue
        amounts = [prop for prop, (kind, _) in properties.items() if kind == "currency"]
        type_fields = [
            prop for prop, (kind, _) in properties.items() if kind == "scalar" and prop.endswith("Type")
        ]
        if len(amounts) == 1 and len(type_fields) == 1:
            component_type_fields[name] = type_fields[0]

    return {
        "EVENT_LISTS": dict(sorted(event_lists.items())),
        "DEFINITIONS": {name: dict(sorted(props.items())) for name, props in sorted(shapes.items())},
        "COMPONENT_TYPE_FIELDS": dict(sorted(component_type_fields.items())),
        "EVENT_SUBTYPE_FIELDS": dict(sorted(event_subtype_fields.items())),
    }


def render_module(knowledge: Mapping[str, Any]) -> str:
    lines = [
        '"""Finances v0 knowledge generated from financesV0.json by `transforms.finances.v0_model_gen`."""',
        "",
        "# Generated file: do not edit by hand; regenerate from the model instead.",
        "",
        "from __future__ import annotations",
        "",
        "# Each *EventList key of FinancialEvents -> the event definition its items follow.",
        f"EVENT_LISTS: dict[str, str] = {knowledge['EVENT_LISTS']!r}",
        "",
        "# Definition -> property -> (kind, target): kind currency | object | array | scalar.",
        f"DEFINITIONS: dict[str, dict[str, tuple[str, str]]] = {knowledge['DEFINITIONS']!r}",
        "",
        "# Component definitions (one amount plus the field naming its type) -> that type field.",
        f"COMPONENT_TYPE_FIELDS: dict[str, str] = {knowledge['COMPONENT_TYPE_FIELDS']!r}",
        "",
        "# Event definition -> its scalar `*Type` fields (the first present one becomes event_subtype).",
        f"EVENT_SUBTYPE_FIELDS: dict[str, list[str]] = {knowledge['EVENT_SUBTYPE_FIELDS']!r}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m transforms.finances.v0_model_gen PATH/TO/financesV0.json", file=sys.stderr)
        return 2
    model = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    target = Path(__file__).with_name("v0_model.py")
    target.write_text(render_module(build_v0_knowledge(model)), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
