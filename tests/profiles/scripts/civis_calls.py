"""Run in the civis venv: every documented `client.usage` method against usagekit.

Configured only through CIVIS_API_ENDPOINT and the key; argv[1] is a JSON object
of calls to make. Prints JSON (snake_case, as the client gives it).
"""

import json
import sys
import warnings

import civis
from civis.base import CivisAPIError

asked = json.loads(sys.argv[1])
client = civis.APIClient(api_key=asked["key"])
out = {"llm": {}, "matching": {}, "summary": {}, "get": {}, "errors": {}}
for name, kw in asked["llm"].items():
    out["llm"][name] = [r.json() for r in client.usage.list_llm(**kw)]
for name, kw in asked["matching"].items():
    out["matching"][name] = [r.json() for r in client.usage.list_matching(**kw)]
for name, kw in asked["summary"].items():
    out["summary"][name] = client.usage.get_llm_organization_summary(**kw).json()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    alias = client.usage.list_llm_organization_summary(**asked["alias"])
out["alias"] = [alias.json(), [str(w.message) for w in caught]]
for stat_id in asked["get"]:
    out["get"][str(stat_id)] = client.usage.get_llm(stat_id).json()
for name, call in [
    ("unknown_id", lambda: client.usage.get_llm(987654321)),
    ("bad_task", lambda: client.usage.list_matching(task="XYZ")),
    ("bad_date", lambda: client.usage.list_llm(start_date="last week")),
]:
    try:
        call()
        out["errors"][name] = None
    except CivisAPIError as exc:
        out["errors"][name] = [exc.status_code, exc.error_message]
try:
    civis.APIClient(api_key="uk_wrong_key_0123456789").usage.list_llm()
    out["errors"]["wrong_key"] = None
except Exception as exc:  # the spec download fails first: requests' HTTPError
    out["errors"]["wrong_key"] = [type(exc).__name__, str(exc)]
print(json.dumps(out))
