"""Civis usage: LLM runs (credits, tokens) and matching runs, per organisation."""

from __future__ import annotations

from typing import Any

from usagekit.core.meters import Aggregation, Meter

LLM_EVENT = "llm_run"
MATCHING_EVENT = "matching_run"
_LLM_DIMS = {"organization": "organization_id", "model": "model_id"}
_MATCH_DIMS = {"organization": "organization_id", "task": "task"}

PRESETS: tuple[Meter, ...] = (
    Meter(
        "civis.llm_credits",
        LLM_EVENT,
        Aggregation.SUM,
        "credits",
        _LLM_DIMS,
        unit="credits",
        description="Civis LLM credits used, per organisation and model",
    ),
    Meter(
        "civis.llm_input_tokens",
        LLM_EVENT,
        Aggregation.SUM,
        "input_tokens",
        _LLM_DIMS,
        unit="tokens",
        description="Civis LLM input tokens, per organisation and model",
    ),
    Meter(
        "civis.llm_output_tokens",
        LLM_EVENT,
        Aggregation.SUM,
        "output_tokens",
        _LLM_DIMS,
        unit="tokens",
        description="Civis LLM output tokens, per organisation and model",
    ),
    Meter(
        "civis.matching_records",
        MATCHING_EVENT,
        Aggregation.SUM,
        "num_records",
        _MATCH_DIMS,
        unit="records",
        description="Civis records matched, per organisation and task (IDR, CDM)",
    ),
)

TASKS = ("IDR", "CDM")
# wire field (camelCase, as Civis sends) -> event data field
LLM_FIELDS = {"runId": "run_id", "jobId": "job_id", "userId": "user_id",
              "organizationId": "organization_id", "runTime": "run_time", "credits": "credits",
              "inputTokens": "input_tokens", "outputTokens": "output_tokens",
              "modelId": "model_id"}  # fmt: skip
MATCHING_FIELDS = {"runId": "run_id", "jobId": "job_id", "userId": "user_id",
                   "organizationId": "organization_id", "runTime": "run_time",
                   "numRecords": "num_records", "task": "task"}  # fmt: skip
_INTEGERS = {"runId", "jobId", "userId", "organizationId", "runTime", "inputTokens",
             "outputTokens", "numRecords"}  # fmt: skip


def _number(value: Any, *, integer: bool) -> Any:
    """A numeric field as Civis types it; anything not numeric passes through unchanged."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return round(number) if integer else number


def wire_record(fields: dict[str, str], data: dict[str, Any], created: str) -> dict[str, Any]:
    """An event's data as a Civis usage statistic (camelCase; integers where Civis has them)."""
    out: dict[str, Any] = {}
    for wire, name in fields.items():
        value = data.get(name)
        if wire in _INTEGERS or wire == "credits":
            value = _number(value, integer=wire != "credits")
        out[wire] = value
    out["runCreatedAt"] = created
    return out
