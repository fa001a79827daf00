"""Civis usage: LLM runs (credits, tokens) and matching runs, per organisation."""

from __future__ import annotations

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
