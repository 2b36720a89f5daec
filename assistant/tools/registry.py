"""The tool registry: OpenAI schemas generated from the argument models, and `run_tool`, which never
raises for bad input — a wrong argument comes back as the tool's answer so the model can correct itself."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from pydantic import ValidationError

from assistant.tools.availability import AVAILABILITY
from assistant.tools.base import Tool, ToolContext, ToolError, ToolResult, failed, succeeded
from assistant.tools.cv import PROFILE, SEARCH
from assistant.tools.jira import JIRA, TICKET

logger = logging.getLogger(__name__)

TOOLS: dict[str, Tool[Any]] = {tool.name: tool for tool in (SEARCH, PROFILE, JIRA, AVAILABILITY, TICKET)}
DEFAULT_STATUS = "Working…"


def tool_names() -> list[str]:
    return list(TOOLS)


def status_text(name: str) -> str:
    tool = TOOLS.get(name)
    return tool.status if tool else DEFAULT_STATUS


def _clean(schema: Any) -> Any:
    """Pydantic's JSON schema, minus what costs the model tokens and tells it nothing: titles, and
    `anyOf [X, null]` for optional fields (leaving a field out already means None)."""
    if isinstance(schema, list):
        return [_clean(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = {
        key: ({name: _clean(sub) for name, sub in value.items()} if key == "properties" else _clean(value))
        for key, value in schema.items()
        if not (key == "title" and isinstance(value, str))
    }
    options = cleaned.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) < len(options):
            cleaned.pop("anyOf")
            if cleaned.get("default", 0) is None:
                cleaned.pop("default")
            cleaned = {**kept[0], **cleaned} if len(kept) == 1 else {"anyOf": kept, **cleaned}
    return cleaned


def _schema(tool: Tool[Any]) -> dict[str, Any]:
    parameters = _clean(tool.arguments.model_json_schema())
    parameters.pop("description", None)
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": parameters},
    }


_SCHEMAS = [_schema(tool) for tool in TOOLS.values()]


def tool_schemas() -> list[dict[str, Any]]:
    """`tools=` for chat.completions: one entry per tool, generated from its pydantic argument model."""
    return copy.deepcopy(_SCHEMAS)


def _parse(arguments: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str):
        raise ToolError(f"Arguments must be a JSON object, got {type(arguments).__name__}.")
    if not arguments.strip():
        return {}
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise ToolError(f"The arguments are not valid JSON ({exc.msg} at position {exc.pos}).") from None
    if not isinstance(parsed, dict):
        raise ToolError(f"The arguments must be a JSON object, got {type(parsed).__name__}.")
    return parsed


def _explain(tool: Tool[Any], error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        message = item["msg"].removeprefix("Value error, ")
        shown = "" if item["type"] in ("missing", "value_error") else f" (got {json.dumps(item['input'])})"
        problems.append(f"{where}: {message}{shown}")
    allowed = ", ".join(tool.arguments.model_fields)
    return f"Invalid arguments for {tool.name}: {'; '.join(problems)}. Arguments: {allowed}."


def run_tool(name: str, arguments: str | dict[str, Any], context: ToolContext) -> ToolResult:
    """Validate, run, encode. Synchronous (database and CPU); the caller decides where it runs."""
    tool = TOOLS.get(name)
    if tool is None:
        return failed(name, {}, f"Unknown tool {name!r}. Available: {', '.join(TOOLS)}.", DEFAULT_STATUS)
    try:
        raw = _parse(arguments)
    except ToolError as exc:
        return failed(name, {"_raw": str(arguments)[:500]}, str(exc), tool.status)
    try:
        args = tool.arguments.model_validate(raw)
    except ValidationError as exc:
        return failed(name, raw, _explain(tool, exc), tool.status)
    normalised = args.model_dump(mode="json")
    try:
        output = tool.run(args, context)
    except ToolError as exc:
        return failed(name, normalised, str(exc), tool.status)
    except Exception as exc:
        logger.exception("tool %s failed with arguments %s", name, normalised)
        message = f"{name} failed ({type(exc).__name__}); the data is unavailable right now."
        return failed(name, normalised, message, tool.status)
    return succeeded(tool, normalised, output)
