"""The assistant's read-only tools. Every result is a table of flat records, TOON-encoded for the model.

search_candidates   ranked people for a staffing need, from their CVs
get_person_profile  one person's CV profile
get_jira_history    a person's Jira issues, most recent first
check_availability  free ERP capacity of some people in a period
"""

from assistant.tools.base import ToolContext, ToolResult
from assistant.tools.registry import run_tool, status_text, tool_names, tool_schemas

__all__ = ["ToolContext", "ToolResult", "run_tool", "status_text", "tool_names", "tool_schemas"]
