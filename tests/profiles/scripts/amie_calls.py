"""Run in the amieclient venv: every UsageClient method the seed documents, unmodified.

argv[1] is a file holding a JSON plan: {"url", "site", "key", "steps": [...]}; each step is one of
  ["send", "Compute"|"Adjustment", [record kwargs, ...]]   (a list of records)
  ["send_message", kind, [record kwargs, ...]]             (a UsageMessage)
  ["send_one", kind, record kwargs]                        (a single record)
  ["failed"], ["status", from ISO or null, to ISO or null], ["summary"],
  ["clear", [ids]], ["big_send", kind, [record kwargs, ...]], ["bad_key"], ["bad_site"]
Prints one JSON list: each step's result, or {"raised": exception type, "text": ...}.
"""

import json
import sys
from datetime import datetime

from amieclient import UsageClient
from amieclient.usage import AdjustmentUsageRecord, ComputeUsageRecord, UsageMessage

CLASSES = {"Compute": ComputeUsageRecord, "Adjustment": AdjustmentUsageRecord}


def records(kind, items):
    return [CLASSES[kind](**kwargs) for kwargs in items]


def response(r):
    return {
        "message": r.message,
        "failed": [
            {"error": e.error, "local_record_id": e.record.local_record_id}
            for e in r.failed_records
        ],
    }


def when(text):
    return None if text is None else datetime.fromisoformat(text)


with open(sys.argv[1]) as fh:
    plan = json.load(fh)
client = UsageClient(site_name=plan["site"], api_key=plan["key"], usage_url=plan["url"])
out = []
for step in plan["steps"]:
    name = step[0]
    try:
        if name == "send":
            out.append([response(r) for r in client.send(records(step[1], step[2]))])
        elif name == "send_message":
            message = UsageMessage(records(step[1], step[2]))
            out.append([response(r) for r in client.send(message)])
        elif name == "send_one":
            out.append([response(r) for r in client.send(CLASSES[step[1]](**step[2]))])
        elif name == "big_send":
            out.append([response(r) for r in client.send(records(step[1], step[2]))])
        elif name == "failed":
            got = client.get_failed_records()
            out.append(
                [
                    {
                        "id": e.failed_record_id,
                        "error": e.error,
                        "type": e.record.record_type,
                        "local_record_id": e.record.local_record_id,
                        "resource": e.record.resource,
                        "project": e.record.local_project_id,
                    }
                    for e in got.failed_records
                ]
            )
        elif name == "status":
            out.append(client.status(when(step[1]), when(step[2])).as_list())
        elif name == "summary":
            out.append(client.summary())
        elif name == "clear":
            out.append(client.clear_failed_records(step[1]))
        elif name in ("bad_key", "bad_site"):
            site = plan["site"] if name == "bad_key" else plan["site"] + "-other"
            key = "uk_not_a_key_0123456789" if name == "bad_key" else plan["key"]
            other = UsageClient(site_name=site, api_key=key, usage_url=plan["url"])
            try:
                other.get_failed_records()
                out.append({"raised": None})
            except Exception as exc:
                out.append({"raised": type(exc).__name__, "text": str(exc)})
            continue
    except Exception as exc:
        out.append({"raised": type(exc).__name__, "text": str(exc)})
print(json.dumps(out))
