"""The 23 routes of LaunchDarkly's Account usage (beta) API, as data: one row each.

A 24th endpoint is one more row; the server and compat.launchdarkly read this table.
"""

from __future__ import annotations

from usagekit.profiles.launchdarkly.model import (
    CLIENT_SERVER,
    HOURLY_TOO,
    LEGACY_MAU,
    MONTHLY_WITH_MTD,
    TRUE_FALSE,
    Endpoint,
    Reply,
    Since,
)

_PROJECT_ENV = {"projectKey": "projectKey", "environmentKey": "environmentKey"}
_ENV = ("environmentKey", "projectKey")
_PLACE = {"projectId": "projectKey", "environmentId": "environmentKey"}
_CONTEXT_GROUPS = {
    **_PLACE,
    "sdkName": "sdkName",
    "sdkAppId": "sdkAppId",
    "anonymousV2": "anonymous",
}
_KIND = (("contextKind", "contextKind"),)
_PRIMARY = {"primary": ("true",)}
_ANON = {"anonymous": TRUE_FALSE}
_SOURCE = {"source": ("source", CLIENT_SERVER)}


def _contexts(
    method: str, path: str, sdk_type: str | None, *, mau: bool = False, seconds: bool = False
) -> Endpoint:
    """Distinct contexts: of every kind (contextKind always a grouping), or MAU (primary)."""
    filters = dict(_PROJECT_ENV)
    if not mau:
        filters["contextKind"] = "contextKind"
    filters["sdkName"] = "sdkName"
    groups = dict(_CONTEXT_GROUPS)
    fixed = dict(_PRIMARY) if mau else {}
    if sdk_type is None:
        filters["sdkType"] = "sdkType"
        groups["sdkType"] = "sdkType"
    else:
        fixed["sdkType"] = (sdk_type,)
    filters["anonymous"] = "anonymous"
    return Endpoint(
        method,
        path,
        "ld.contexts",
        filters=filters,
        choices=_ANON,
        fixed=fixed,
        group_by=groups,
        series_by=() if mau else _KIND,
        aggregations=MONTHLY_WITH_MTD,
        seconds=seconds,
        max_days=365,
        env_needs_project=_ENV,
    )


def _observability(kind: str) -> Endpoint:
    return Endpoint(
        f"get_observability_{kind}_usage",
        f"/observability/{kind}",
        "ld.observability",
        filters={"projectKey": "projectKey"},
        fixed={"kind": (kind,)},
        aggregations=MONTHLY_WITH_MTD,
        seconds=True,
    )


def _counted(
    method: str,
    path: str,
    meter: str,
    filters: dict[str, str],
    groups: dict[str, str],
    reply: Reply = Reply.SERIES,
) -> Endpoint:
    """Counts or sums over months, days or hours (no rolling window), at most 365 days."""
    return Endpoint(
        method,
        path,
        meter,
        reply,
        filters={**_PROJECT_ENV, **filters},
        group_by=groups,
        aggregations=HOURLY_TOO,
        max_days=365,
        env_needs_project=_ENV,
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    _contexts("get_contexts_clientside_usage", "/clientside-contexts", "client"),
    _contexts("get_contexts_serverside_usage", "/serverside-contexts", "server", seconds=True),
    _contexts("get_contexts_total_usage", "/total-contexts", None),
    _counted(
        "get_data_export_events_usage",
        "/data-export-events",
        "ld.data_export_events",
        {"eventKind": "eventKind"},
        {"environmentId": "environmentKey", "eventKind": "eventKind"},
    ),
    Endpoint(
        "get_evaluations_usage",
        "/evaluations/{projectKey}/{environmentKey}/{featureFlagKey}",
        "ld.evaluations",
        path_filters={
            "projectKey": ("projectKey", ()),
            "environmentKey": ("environmentKey", ()),
            "featureFlagKey": ("flagKey", ()),
        },
        series_by=(("variation", "variation"),),
        auto_granularity=True,
        since=Since.DAYS_30,
        tz=True,
    ),
    Endpoint(
        "get_events_usage",
        "/events/{type}",
        "ld.events",
        path_filters={"type": ("kind", ("received", "published"))},
        auto_granularity=True,
        since=Since.HOURS_24,
    ),
    _counted(
        "get_experimentation_events_usage",
        "/experimentation-events",
        "ld.experimentation_events",
        {"eventKey": "eventKey", "eventKind": "eventKind"},
        {"environmentId": "environmentKey", "eventKey": "eventKey", "eventKind": "eventKind"},
    ),
    _counted(
        "get_experimentation_keys_usage",
        "/experimentation-keys",
        "ld.experimentation_keys",
        {"experimentId": "experimentId"},
        {**_PLACE, "experimentId": "experimentId"},
    ),
    _contexts("get_mau_clientside_usage", "/clientside-mau", "client", mau=True),
    Endpoint(
        "get_mau_sdks_by_type",
        "/mau/sdks",
        "ld.contexts",
        Reply.SDKS,
        filters={"sdktype": "sdkType"},
        choices={"sdktype": CLIENT_SERVER},
        fixed=_PRIMARY,
        series_by=(("sdk", "sdkName"),),
        since=Since.DAYS_7,
    ),
    _contexts("get_mau_total_usage", "/total-mau", None, mau=True),
    Endpoint(
        "get_mau_usage",
        "/mau",
        "ld.contexts",
        filters={
            "project": "projectKey",
            "environment": "environmentKey",
            "sdktype": "sdkType",
            "sdk": "sdkName",
            "anonymous": "anonymous",
            "contextKind": "contextKind",
        },
        choices={"sdktype": CLIENT_SERVER, **_ANON},
        defaults={"contextKind": ("user",)},
        fixed=_PRIMARY,
        group_param="groupby",
        group_by={
            "project": "projectKey",
            "environment": "environmentKey",
            "sdktype": "sdkType",
            "sdk": "sdkName",
            "anonymous": "anonymous",
            "contextKind": "contextKind",
            "sdkAppId": "sdkAppId",
        },
        aggregations=LEGACY_MAU,
        default_aggregation="rolling_30d",
        granularity=False,
        since=Since.DAYS_30,
        env_needs_project=("environment", "project"),
    ),
    Endpoint(
        "get_mau_usage_by_category",
        "/mau/bycategory",
        "ld.contexts",
        fixed=_PRIMARY,
        series_by=(("category", "category"),),
        aggregation="rolling_30d",
        since=Since.DAYS_30,
    ),
    *(_observability(kind) for kind in ("errors", "logs", "metrics", "sessions", "traces")),
    _counted(
        "get_service_connections_usage",
        "/service-connections",
        "ld.service_connection_minutes",
        {
            "connectionType": "connectionType",
            "relayVersion": "relayVersion",
            "sdkName": "sdkName",
            "sdkVersion": "sdkVersion",
            "sdkType": "sdkType",
            "sdkAppId": "sdkAppId",
        },
        {
            **_PLACE,
            "connectionType": "connectionType",
            "relayVersion": "relayVersion",
            "sdkName": "sdkName",
            "sdkVersion": "sdkVersion",
            "sdkType": "sdkType",
            "sdkAppId": "sdkAppId",
        },
        Reply.SERIES_FLOAT,
    ),
    Endpoint(
        "get_stream_usage",
        "/streams/{source}",
        "ld.stream_connections",
        path_filters=_SOURCE,
        auto_granularity=True,
        since=Since.DAYS_30,
        tz=True,
    ),
    Endpoint(
        "get_stream_usage_by_sdk_version",
        "/streams/{source}/bysdkversion",
        "ld.stream_connections",
        path_filters=_SOURCE,
        filters={"sdk": "sdk", "version": "version"},
        series_by=(("sdk", "sdk"), ("version", "version")),
        auto_granularity=True,
        since=Since.HOURS_24,
        tz=True,
    ),
    Endpoint(
        "get_stream_usage_sdkversion",
        "/streams/{source}/sdkversions",
        "ld.stream_connections",
        Reply.SDK_VERSIONS,
        path_filters=_SOURCE,
        series_by=(("sdk", "sdk"), ("version", "version")),
        since=Since.DAYS_60,
        ranged=False,
    ),
    Endpoint(
        "get_vega_ai_usage",
        "/vega-ai",
        "ld.vega_ai",
        filters={"projectKey": "projectKey"},
        aggregations=MONTHLY_WITH_MTD,
        seconds=True,
    ),
)

BY_METHOD: dict[str, Endpoint] = {e.method: e for e in ENDPOINTS}
