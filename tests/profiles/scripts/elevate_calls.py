"""Run in the earnix-elevate venv: every documented UsageMonitoringService method.

Configured only through E2_SERVER / E2_CLIENT_ID / E2_SECRET_KEY; argv[1] is a JSON
list of [metric_type, start or null, end or null] calls. Prints JSON.
"""

import json
import sys
from datetime import datetime

from earnix_elevate import UsageMonitoringService
from earnix_elevate.clients.umon.exceptions import ApiException
from earnix_elevate.core.exceptions import ElevateAuthenticationException


def when(text):
    return None if text is None else datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


out = {"summaries": [], "downloads": [], "errors": {}}
service = UsageMonitoringService()
for metric, start, end in json.loads(sys.argv[1]):
    reply = service.get_usage_summary(metric, start_date=when(start), end_date=when(end))
    out["summaries"].append([reply.metric_type, reply.total_value])
    csv_bytes = service.download_usage_metrics_csv(
        metric, start_date=when(start), end_date=when(end)
    )
    out["downloads"].append(bytes(csv_bytes).decode())
try:
    service.get_usage_summary("GPU_TIME")
except ApiException as exc:
    out["errors"]["unknown_metric"] = [exc.status, exc.headers.get("content-type"), exc.body]
try:
    UsageMonitoringService(secret_key="uk_wrong_secret_0123456789")
except ElevateAuthenticationException as exc:
    out["errors"]["wrong_secret"] = str(exc)
print(json.dumps(out))
