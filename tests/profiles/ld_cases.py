"""Calls of every AccountUsageBetaApi method, each with what the oracle needs to check it.

Written from the seed, independently of usagekit's endpoint table: which events each
method reads, how it counts them, which parameters filter or group which fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.profiles.ld_data import DAY, HOUR, MINUTE, Value


@dataclass
class Case:
    id: str
    method: str
    kwargs: dict[str, Any]
    event_type: str
    value: Value
    filters: dict[str, set[str]] = field(default_factory=dict)
    groups: list[tuple[str, str]] = field(default_factory=list)  # (metadata label, event field)
    kind: str = "incremental"
    granularity: str | None = "day"  # None: by the age of `from`
    seconds: bool = False
    tz: str = "UTC"
    args: list[str] = field(default_factory=list)


def cases(now: int) -> list[Case]:
    """About sixty calls covering every method, parameter, aggregation and granularity."""

    def ms(back: int) -> str:
        return str(now - back)

    def sec(back: int) -> str:
        return str((now - back) // 1000)

    out: list[Case] = []
    distinct = ("distinct", "contextKey")
    kind_group = [("contextKind", "contextKind")]
    for method, sdk_type, seconds in (
        ("get_contexts_clientside_usage", "client", False),
        ("get_contexts_serverside_usage", "server", True),
        ("get_contexts_total_usage", None, False),
    ):
        t = sec if seconds else ms
        fixed = {"sdkType": {sdk_type}} if sdk_type else {}
        short = method.split("_")[2]
        out += [
            Case(f"{short}-default", method, {}, "ld.context", distinct, fixed, kind_group,
                 "month_to_date", seconds=seconds),
            Case(f"{short}-rolling", method,
                 {"var_from": t(60 * DAY), "to": t(0), "aggregation_type": "rolling_30d",
                  "group_by": "sdkName"},
                 "ld.context", distinct, fixed, [*kind_group, ("sdkName", "sdkName")],
                 "rolling_30d", seconds=seconds),
            Case(f"{short}-incremental", method,
                 {"var_from": t(20 * DAY), "to": t(0), "aggregation_type": "incremental",
                  "project_key": "web", "environment_key": "production", "context_kind": "user",
                  "anonymous": "false", "group_by": "environmentId"},
                 "ld.context", distinct,
                 {**fixed, "projectKey": {"web"}, "environmentKey": {"production"},
                  "contextKind": {"user"}, "anonymous": {"false"}},
                 [*kind_group, ("environmentId", "environmentKey")], seconds=seconds),
            Case(f"{short}-monthly", method,
                 {"var_from": t(65 * DAY), "to": t(0), "granularity": "monthly",
                  "group_by": "anonymousV2", "sdk_name": "go" if sdk_type == "server" else "react"},
                 "ld.context", distinct,
                 {**fixed, "sdkName": {"go" if sdk_type == "server" else "react"}},
                 [*kind_group, ("anonymousV2", "anonymous")], "month_to_date", "month",
                 seconds=seconds),
        ]  # fmt: skip
    out.append(Case("total-sdktype", "get_contexts_total_usage",
                    {"var_from": ms(10 * DAY), "to": ms(0), "sdk_type": "server",
                     "group_by": "sdkType", "aggregation_type": "incremental"},
                    "ld.context", distinct, {"sdkType": {"server"}},
                    [*kind_group, ("sdkType", "sdkType")]))  # fmt: skip
    primary = {"primary": {"true"}}
    for method, sdk_type in (("get_mau_clientside_usage", "client"), ("get_mau_total_usage", None)):
        fixed = {**primary, **({"sdkType": {sdk_type}} if sdk_type else {})}
        short = method.split("_")[2]
        out += [
            Case(f"mau-{short}-default", method, {}, "ld.context", distinct, fixed,
                 kind="month_to_date"),
            Case(f"mau-{short}-rolling", method,
                 {"var_from": ms(45 * DAY), "to": ms(0), "aggregation_type": "rolling_30d",
                  "group_by": "sdkAppId"},
                 "ld.context", distinct, fixed, [("sdkAppId", "sdkAppId")], "rolling_30d"),
            Case(f"mau-{short}-project", method,
                 {"var_from": ms(50 * DAY), "to": ms(0), "project_key": "mobile",
                  "aggregation_type": "incremental", "group_by": "projectId"},
                 "ld.context", distinct, {**fixed, "projectKey": {"mobile"}},
                 [("projectId", "projectKey")]),
        ]  # fmt: skip
    out.append(Case("mau-total-type", "get_mau_total_usage",
                    {"var_from": ms(40 * DAY), "to": ms(0), "sdk_type": "client",
                     "group_by": "sdkType", "granularity": "monthly"},
                    "ld.context", distinct, {**primary, "sdkType": {"client"}},
                    [("sdkType", "sdkType")], "month_to_date", "month"))  # fmt: skip
    legacy = {**primary, "contextKind": {"user"}}
    out += [
        Case("mau-legacy-default", "get_mau_usage", {"to": ms(0)}, "ld.context", distinct,
             legacy, kind="rolling_30d"),
        Case("mau-legacy-kinds", "get_mau_usage",
             {"var_from": ms(40 * DAY), "to": ms(0), "context_kind": "device",
              "groupby": "contextKind", "aggregation_type": "daily_incremental",
              "project": "web", "environment": "staging"},
             "ld.context", distinct,
             {**primary, "contextKind": {"device"}, "projectKey": {"web"},
              "environmentKey": {"staging"}}, [("contextKind", "contextKind")]),
        Case("mau-legacy-sdk", "get_mau_usage",
             {"var_from": ms(35 * DAY), "to": ms(0), "sdktype": "client", "sdk": "ios",
              "anonymous": "false", "groupby": "sdk", "aggregation_type": "month_to_date"},
             "ld.context", distinct,
             {**legacy, "sdkType": {"client"}, "sdkName": {"ios"}, "anonymous": {"false"}},
             [("sdk", "sdkName")], "month_to_date"),
        Case("mau-category-default", "get_mau_usage_by_category", {"to": ms(0)}, "ld.context",
             distinct, primary, [("category", "category")], "rolling_30d"),
        Case("mau-category-range", "get_mau_usage_by_category",
             {"var_from": ms(60 * DAY), "to": ms(HOUR)}, "ld.context", distinct, primary,
             [("category", "category")], "rolling_30d"),
    ]  # fmt: skip
    count = ("count", None)
    for method, event_type, filters, groups in (
        ("get_data_export_events_usage", "ld.data_export_event", {"event_kind": "eventKind"},
         {"environmentId": "environmentKey", "eventKind": "eventKind"}),
        ("get_experimentation_events_usage", "ld.experimentation_event",
         {"event_key": "eventKey", "event_kind": "eventKind"},
         {"environmentId": "environmentKey", "eventKey": "eventKey", "eventKind": "eventKind"}),
        ("get_experimentation_keys_usage", "ld.experimentation_key",
         {"experiment_id": "experimentId"},
         {"projectId": "projectKey", "environmentId": "environmentKey",
          "experimentId": "experimentId"}),
    ):  # fmt: skip
        value: Value = ("distinct", "key") if "keys" in method else count
        short = method.split("_")[1] + "-" + method.split("_")[2]
        label, dim = list(groups.items())[-1]
        out += [
            Case(f"{short}-default", method, {}, event_type, value, kind="month_to_date"),
            Case(f"{short}-hourly", method,
                 {"var_from": ms(3 * DAY), "to": ms(0), "granularity": "hourly",
                  "aggregation_type": "incremental", "group_by": label},
                 event_type, value, {}, [(label, dim)], granularity="hour"),
            Case(f"{short}-hourly-mtd", method,
                 {"var_from": ms(2 * DAY), "to": ms(0), "granularity": "hourly",
                  "project_key": "web", "environment_key": "staging"},
                 event_type, value, {"projectKey": {"web"}, "environmentKey": {"staging"}},
                 kind="month_to_date", granularity="hour"),
            Case(f"{short}-monthly", method,
                 {"var_from": ms(65 * DAY), "to": ms(0), "granularity": "monthly",
                  "group_by": "environmentId"},
                 event_type, value, {}, [("environmentId", "environmentKey")],
                 "month_to_date", "month"),
        ]  # fmt: skip
        param, name = next(iter(filters.items()))
        picked = {"eventKind": "custom", "eventKey": "buy", "experimentId": "exp2"}[name]
        out.append(Case(f"{short}-filter", method,
                        {"var_from": ms(30 * DAY), "to": ms(0), param: picked,
                         "aggregation_type": "incremental"},
                        event_type, value, {name: {picked}}))  # fmt: skip
    evaluation = {"projectKey": {"web"}, "environmentKey": {"production"},
                  "flagKey": {"dark-mode"}}  # fmt: skip
    where = ["web", "production", "dark-mode"]
    variation = [("variation", "variation")]
    out += [
        Case("evaluations-minutely", "get_evaluations_usage", {"var_from": ms(90 * MINUTE)},
             "ld.evaluation", count, evaluation, variation, granularity=None, args=where),
        Case("evaluations-hourly", "get_evaluations_usage",
             {"var_from": ms(DAY), "to": ms(HOUR)}, "ld.evaluation", count, evaluation,
             variation, granularity=None, args=where),
        Case("evaluations-default-tz", "get_evaluations_usage", {"tz": "Asia/Kolkata"},
             "ld.evaluation", count, evaluation, variation, granularity=None,
             tz="Asia/Kolkata", args=where),
        Case("evaluations-other-flag", "get_evaluations_usage",
             {"var_from": ms(10 * DAY), "tz": "America/New_York"}, "ld.evaluation", count,
             {"projectKey": {"mobile"}, "environmentKey": {"staging"}, "flagKey": {"checkout"}},
             variation, granularity=None, tz="America/New_York",
             args=["mobile", "staging", "checkout"]),
        Case("events-received", "get_events_usage", {}, "ld.event", count,
             {"kind": {"received"}}, granularity=None, args=["received"]),
        Case("events-published", "get_events_usage", {"var_from": ms(5 * DAY), "to": ms(0)},
             "ld.event", count, {"kind": {"published"}}, granularity=None, args=["published"]),
    ]  # fmt: skip
    for kind in ("errors", "logs", "metrics", "sessions", "traces"):
        method = f"get_observability_{kind}_usage"
        total = ("sum", "count")
        where_kind = {"kind": {kind}}
        out += [
            Case(f"obs-{kind}-default", method, {}, "ld.observability", total, where_kind,
                 kind="month_to_date", seconds=True),
            Case(f"obs-{kind}-rolling", method,
                 {"var_from": sec(40 * DAY), "to": sec(0), "aggregation_type": "rolling_30d",
                  "project_key": "mobile"},
                 "ld.observability", total, {**where_kind, "projectKey": {"mobile"}},
                 kind="rolling_30d", seconds=True),
        ]  # fmt: skip
    out.append(Case("obs-errors-monthly", "get_observability_errors_usage",
                    {"var_from": sec(60 * DAY), "to": sec(0), "granularity": "monthly",
                     "aggregation_type": "month_to_date"},
                    "ld.observability", ("sum", "count"), {"kind": {"errors"}},
                    kind="month_to_date", granularity="month", seconds=True))  # fmt: skip
    vega = ("sum", "count")
    out += [
        Case("vega-default", "get_vega_ai_usage", {}, "ld.vega_ai", vega, kind="month_to_date",
             seconds=True),
        Case("vega-incremental", "get_vega_ai_usage",
             {"var_from": sec(30 * DAY), "to": sec(0), "aggregation_type": "incremental",
              "project_key": "web"},
             "ld.vega_ai", vega, {"projectKey": {"web"}}, seconds=True),
        Case("vega-monthly", "get_vega_ai_usage",
             {"var_from": sec(65 * DAY), "to": sec(0), "granularity": "monthly"},
             "ld.vega_ai", vega, kind="month_to_date", granularity="month", seconds=True),
    ]  # fmt: skip
    minutes = ("sum", "minutes")
    connection = "ld.service_connection"
    out += [
        Case("service-default", "get_service_connections_usage", {}, connection, minutes,
             kind="month_to_date"),
        Case("service-hourly", "get_service_connections_usage",
             {"var_from": ms(2 * DAY), "to": ms(0), "granularity": "hourly",
              "aggregation_type": "incremental", "group_by": "connectionType",
              "sdk_type": "server"},
             connection, minutes, {"sdkType": {"server"}},
             [("connectionType", "connectionType")], granularity="hour"),
        Case("service-filters", "get_service_connections_usage",
             {"var_from": ms(60 * DAY), "to": ms(0), "granularity": "monthly",
              "project_key": "web", "environment_key": "production", "connection_type": "relay",
              "relay_version": "8.2", "sdk_name": "go", "sdk_version": "2.1",
              "group_by": "sdkName"},
             connection, minutes,
             {"projectKey": {"web"}, "environmentKey": {"production"},
              "connectionType": {"relay"}, "relayVersion": {"8.2"}, "sdkName": {"go"},
              "sdkVersion": {"2.1"}},
             [("sdkName", "sdkName")], "month_to_date", "month"),
        Case("service-groups", "get_service_connections_usage",
             {"var_from": ms(20 * DAY), "to": ms(0), "group_by": "relayVersion"},
             connection, minutes, {}, [("relayVersion", "relayVersion")], "month_to_date"),
    ]  # fmt: skip
    connections = ("sum", "connections")
    sdk_version = [("sdk", "sdk"), ("version", "version")]
    out += [
        Case("streams-client-default", "get_stream_usage", {}, "ld.stream", connections,
             {"source": {"client"}}, granularity=None, args=["client"]),
        Case("streams-server-minutely", "get_stream_usage",
             {"var_from": ms(100 * MINUTE), "to": ms(0)}, "ld.stream", connections,
             {"source": {"server"}}, granularity=None, args=["server"]),
        Case("streams-tz", "get_stream_usage", {"var_from": ms(9 * DAY), "tz": "Europe/Paris"},
             "ld.stream", connections, {"source": {"server"}}, granularity=None,
             tz="Europe/Paris", args=["server"]),
        Case("bysdk-default", "get_stream_usage_by_sdk_version", {}, "ld.stream", connections,
             {"source": {"client"}}, sdk_version, granularity=None, args=["client"]),
        Case("bysdk-filtered", "get_stream_usage_by_sdk_version",
             {"var_from": ms(3 * DAY), "to": ms(0), "sdk": "go", "version": "2.1"},
             "ld.stream", connections, {"source": {"server"}, "sdk": {"go"}, "version": {"2.1"}},
             sdk_version, granularity=None, args=["server"]),
        Case("bysdk-tz", "get_stream_usage_by_sdk_version",
             {"var_from": ms(12 * DAY), "tz": "Asia/Tokyo", "sdk": "react"}, "ld.stream",
             connections, {"source": {"client"}, "sdk": {"react"}}, sdk_version,
             granularity=None, tz="Asia/Tokyo", args=["client"]),
    ]  # fmt: skip
    return out


# The SDK lists: (id, method, args, kwargs)
LISTS: list[tuple[str, str, list[str], dict[str, str]]] = [
    ("sdks-default", "get_mau_sdks_by_type", [], {}),
    ("sdks-client", "get_mau_sdks_by_type", [], {"sdktype": "client"}),
    ("sdks-range", "get_mau_sdks_by_type", [], {"var_from": "0", "sdktype": "server"}),
    ("versions-client", "get_stream_usage_sdkversion", ["client"], {}),
    ("versions-server", "get_stream_usage_sdkversion", ["server"], {}),
]

# (id, method, args, kwargs, the parameter the 400 must name)
INVALID: list[tuple[str, str, list[str], dict[str, str], str]] = [
    ("env-without-project", "get_contexts_total_usage", [], {"environment_key": "production"},
     "environmentKey"),
    ("env-legacy", "get_mau_usage", [], {"environment": "production"}, "environment"),
    ("monthly-incremental", "get_mau_total_usage", [],
     {"aggregation_type": "incremental", "granularity": "monthly"}, "granularity"),
    ("hourly-contexts", "get_contexts_clientside_usage", [], {"granularity": "hourly"},
     "granularity"),
    ("monthly-rolling", "get_observability_logs_usage", [],
     {"aggregation_type": "rolling_30d", "granularity": "monthly"}, "granularity"),
    ("rolling-export", "get_data_export_events_usage", [], {"aggregation_type": "rolling_30d"},
     "aggregationType"),
    ("monthly-service-incremental", "get_service_connections_usage", [],
     {"aggregation_type": "incremental", "granularity": "monthly"}, "granularity"),
    ("weekly", "get_vega_ai_usage", [], {"granularity": "weekly"}, "granularity"),
    ("bad-group", "get_mau_clientside_usage", [], {"group_by": "sdkType"}, "groupBy"),
    ("bad-legacy-group", "get_mau_usage", [], {"groupby": "projectId"}, "groupby"),
    ("daily-incremental-new", "get_contexts_total_usage", [],
     {"aggregation_type": "daily_incremental"}, "aggregationType"),
    ("over-365-days", "get_experimentation_keys_usage", [],
     {"var_from": "1000", "to": str(400 * DAY)}, "from"),
    ("from-not-number", "get_contexts_serverside_usage", [], {"var_from": "yesterday"}, "from"),
    ("to-before-from", "get_service_connections_usage", [],
     {"var_from": str(20 * DAY), "to": str(10 * DAY)}, "to"),
    ("bad-anonymous", "get_contexts_clientside_usage", [], {"anonymous": "maybe"}, "anonymous"),
    ("bad-sdktype", "get_mau_sdks_by_type", [], {"sdktype": "edge"}, "sdktype"),
    ("bad-source", "get_stream_usage", ["relay"], {}, "source"),
    ("bad-source-versions", "get_stream_usage_sdkversion", ["edge"], {}, "source"),
    ("bad-type", "get_events_usage", ["sent"], {}, "type"),
    ("bad-tz", "get_evaluations_usage", ["web", "production", "dark-mode"], {"tz": "Mars/Base"},
     "tz"),
]  # fmt: skip
