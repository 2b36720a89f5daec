"""The OpenAI `tools=` list is generated from the argument models: one source of truth."""

from __future__ import annotations

import json
from typing import Any

from openai.types.chat import ChatCompletionFunctionToolParam
from openai.types.shared import FunctionDefinition
from pydantic import TypeAdapter

from assistant.tools import status_text, tool_names, tool_schemas
from assistant.tools.registry import TOOLS

JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}


def walk(schema: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(schema, dict):
        found.append(schema)
        for key, value in schema.items():
            if key == "properties":
                for sub in value.values():
                    found += walk(sub)
            elif isinstance(value, dict | list):
                found += walk(value)
    elif isinstance(schema, list):
        for item in schema:
            found += walk(item)
    return found


def test_schemas_are_openai_function_tools() -> None:
    schemas = tool_schemas()
    json.dumps(schemas)  # serialisable as sent
    adapter = TypeAdapter(ChatCompletionFunctionToolParam)
    for schema in schemas:
        adapter.validate_python(schema)
        assert schema["type"] == "function"
        function = FunctionDefinition.model_validate(schema["function"])
        assert function.description and len(function.description) < 400
        parameters = schema["function"]["parameters"]
        assert parameters["type"] == "object"
        assert parameters["additionalProperties"] is False
        assert set(parameters["required"]) <= set(parameters["properties"])
        for name, prop in parameters["properties"].items():
            assert prop.get("description"), f"{function.name}.{name} needs a description"
        for node in walk(parameters):
            assert "$ref" not in node and "$defs" not in node and not isinstance(node.get("title"), str)
            types = [node["type"]] if "type" in node else [o["type"] for o in node.get("anyOf", [])]
            assert set(types) <= JSON_TYPES


def test_schemas_match_the_argument_models() -> None:
    schemas = {s["function"]["name"]: s["function"]["parameters"] for s in tool_schemas()}
    assert list(schemas) == tool_names() == list(TOOLS)
    assert len(set(tool_names())) == len(tool_names()) == 5
    for name, tool in TOOLS.items():
        fields = tool.arguments.model_fields
        assert list(schemas[name]["properties"]) == list(fields)
        assert set(schemas[name]["required"]) == {f for f, info in fields.items() if info.is_required()}
        for field, info in fields.items():
            assert schemas[name]["properties"][field]["description"] == info.description


def test_schema_details_the_model_relies_on() -> None:
    search = next(s for s in tool_schemas() if s["function"]["name"] == "search_candidates")
    props = search["function"]["parameters"]["properties"]
    assert props["top"] == {
        "default": 8,
        "description": "How many candidates to return.",
        "maximum": 25,
        "minimum": 1,
        "type": "integer",
    }
    assert props["available_from"]["type"] == "string" and props["available_from"]["format"] == "date"
    assert props["location"]["type"] == "array" and "default" not in props["location"]
    assert search["function"]["parameters"]["required"] == ["query"]


def test_status_texts() -> None:
    assert status_text("search_candidates") == "Searching CVs…"
    assert status_text("get_jira_history") == "Checking Jira history…"
    assert status_text("check_availability") == "Checking availability…"
    assert status_text("get_person_profile")
    assert status_text("no_such_tool") == "Working…"


def test_schemas_are_copies() -> None:
    tool_schemas()[0]["function"]["name"] = "changed"
    assert tool_schemas()[0]["function"]["name"] == "search_candidates"
