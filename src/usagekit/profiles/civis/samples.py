"""Sample Civis usage for `usagekit demo`: LLM runs and matching runs per organisation."""

from __future__ import annotations

import random

from usagekit.profiles.base import Record, Samples, meter_record, zipf


def make(rng: random.Random, day: int, i: int) -> tuple[str, str, Record]:
    user_id = zipf(rng, 30)
    org = 1 + user_id % 3
    if rng.random() < 0.8:
        tokens_in = int(rng.lognormvariate(7, 1))
        data = {
            "run_id": day * 100_000 + i,
            "job_id": 500 + user_id,
            "user_id": user_id,
            "organization_id": org,
            "run_time": round(rng.lognormvariate(1, 0.8), 3),
            "credits": round(tokens_in / 1000 * 0.4, 4),
            "input_tokens": tokens_in,
            "output_tokens": int(tokens_in * rng.uniform(0.1, 0.6)),
            "model_id": rng.choice(["claude-sonnet", "claude-haiku", "gpt-4o-mini"]),
        }
        return "llm_run", str(user_id), data
    data = {
        "run_id": day * 100_000 + i,
        "job_id": 900 + user_id,
        "user_id": user_id,
        "organization_id": org,
        "run_time": round(rng.lognormvariate(3, 1), 3),
        "num_records": int(rng.lognormvariate(9, 1.5)),
        "task": rng.choice(["IDR", "CDM"]),
    }
    return "matching_run", str(user_id), data


SAMPLES = Samples(
    "civis",
    300,
    make,
    (
        meter_record(
            "llm_input_tokens",
            "llm_run",
            "sum",
            "input_tokens",
            "tokens",
            model="model_id",
            organization="organization_id",
        ),
        meter_record(
            "llm_output_tokens", "llm_run", "sum", "output_tokens", "tokens", model="model_id"
        ),
        meter_record(
            "llm_credits", "llm_run", "sum", "credits", "credits", organization="organization_id"
        ),
        meter_record("llm_run_time", "llm_run", "avg", "run_time", "s", model="model_id"),
        meter_record(
            "matching_records", "matching_run", "sum", "num_records", "records", task="task"
        ),
    ),
    demo_tenants=("initech-ai",),
)
