"""The Swagger 2.0 document `civis.APIClient` downloads from `GET endpoints`.

Written by us: just the usage paths, with the parameters and fields of the
Civis documentation, so the client builds `client.usage.*` from it.
"""

from __future__ import annotations

from typing import Any

_DATES = (
    "Defaults to the start of the current month if neither start_date nor end_date is specified."
)
_DATES_END = (
    "Defaults to the end of the current day if neither start_date nor end_date is specified."
)


def _query(name: str, kind: str, text: str, fmt: str | None = None) -> dict[str, Any]:
    out = {"name": name, "in": "query", "required": False, "description": text, "type": kind}
    return out | ({"format": fmt} if fmt else {})


def _path(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": text, "type": "integer"}


ORG = "The ID of the organization to get usage statistics for."
START = "The start date of the range to get usage statistics for."
END = "The end date of the range to get usage statistics for."
TASK = 'The type of matching job contributing to this usage. One of ["IDR", "CDM"].'


def _get(summary: str, params: list[dict[str, Any]], schema: dict[str, Any]) -> dict[str, Any]:
    ok = {"200": {"description": "success", "schema": schema}}
    return {"get": {"summary": summary, "deprecated": False, "parameters": params, "responses": ok}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}"}


def _props(fields: dict[str, tuple[str, str]]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name, (kind, text) in fields.items():
        prop: dict[str, Any] = {"description": text, "type": kind}
        if name == "runCreatedAt":
            prop["format"] = "date-time"
        elif name == "credits":
            prop["format"] = "float"
        props[name] = prop
    return {"type": "object", "properties": props, "required": list(fields)}


_RUN = {
    "runId": ("integer", "The ID of the run which contributed this usage."),
    "jobId": ("integer", "The ID of the job which contributed this usage."),
    "userId": ("integer", "The ID of the user who contributed this usage."),
    "organizationId": ("integer", "The organization of the user who contributed this usage."),
    "runCreatedAt": ("string", "When the run was created at."),
    "runTime": ("integer", "The duration of the run in seconds."),
}
_LLM = {"id": ("integer", "The ID of the usage statistic to get."), **_RUN,
        "credits": ("number", "The number of credits used."),
        "inputTokens": ("integer", "The number of tokens input to the run."),
        "outputTokens": ("integer", "The number of tokens output from the run."),
        "modelId": ("string", "The ID of the LLM model used.")}  # fmt: skip
_MATCHING = {**_RUN, "numRecords": ("integer", "The number of records matched by the run."),
             "task": ("string", TASK)}  # fmt: skip
_SUMMARY = {
    "credits": ("number", "The number of credits used."),
    "organizationId": (
        "integer",
        "The organization for which LLM usage statistics are summarized.",
    ),
}

SPEC: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Civis usage API (served by usagekit)", "version": "1"},
    "produces": ["application/json"],
    "paths": {
        "/usage/matching": _get(
            "Get usage statistics for a given organization",
            [
                _query("org_id", "integer", ORG),
                _query("task", "string", TASK),
                _query("start_date", "string", START, "date-time"),
                _query("end_date", "string", END, "date-time"),
            ],
            {"type": "array", "items": _ref("UsageMatchingStats")},
        ),
        "/usage/llm": _get(
            "Get a list of usage statistics for a given organization",
            [
                _query("org_id", "integer", ORG),
                _query("start_date", "string", f"{START} {_DATES}", "date-time"),
                _query("end_date", "string", f"{END} {_DATES_END}", "date-time"),
            ],
            {"type": "array", "items": _ref("UsageLLMUsage")},
        ),
        "/usage/llm/{id}": _get(
            "Get an individual usage statistic for a given organization",
            [_path("id", "The ID of the usage statistic to get.")],
            _ref("UsageLLMUsage"),
        ),
        "/usage/llm/organization/{org_id}/summary": _get(
            "Get summarized usage statistics for a given organization",
            [
                _path("org_id", ORG),
                _query("start_date", "string", f"{START} {_DATES}", "date-time"),
                _query("end_date", "string", f"{END} {_DATES_END}", "date-time"),
            ],
            _ref("UsageLLMOrgUsageSummary"),
        ),
    },
    "definitions": {
        "UsageMatchingStats": _props(_MATCHING),
        "UsageLLMUsage": _props(_LLM),
        "UsageLLMOrgUsageSummary": _props(_SUMMARY),
    },
    "securityDefinitions": {"api_key": {"type": "apiKey", "name": "Authorization", "in": "header"}},
    "security": [{"api_key": []}],
}
