"""Run in the launchdarkly-api venv: AccountUsageBetaApi calls against usagekit.

Configured only through Configuration(host=...) and api_key["ApiKey"]; argv[1] is
a JSON object {"host", "key", "calls": [{"id", "method", "args", "kwargs"}]}.
Prints {id: {"ok": <model.to_dict()>} | {"error": [status, body, retry_after]}}.
"""

import json
import sys

import launchdarkly_api
from launchdarkly_api.exceptions import ApiException

asked = json.loads(sys.argv[1])
configuration = launchdarkly_api.Configuration(host=asked["host"])
configuration.api_key["ApiKey"] = asked["key"]
out = {}
with launchdarkly_api.ApiClient(configuration) as api_client:
    api = launchdarkly_api.AccountUsageBetaApi(api_client)
    for call in asked["calls"]:
        try:
            reply = getattr(api, call["method"])(*call.get("args", []), **call.get("kwargs", {}))
            out[call["id"]] = {"ok": reply.to_dict(), "type": type(reply).__name__}
        except ApiException as exc:
            headers = exc.headers or {}
            out[call["id"]] = {"error": [exc.status, exc.body, headers.get("Retry-After")]}
print(json.dumps(out))
