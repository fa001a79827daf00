"""LaunchDarkly account usage: preset meters over the ld.* events, and what an endpoint is.

Every endpoint of the seed's AccountUsageBetaApi is one `Endpoint` row (the table is
in launchdarkly_endpoints); the rows say which preset answers, which parameters
filter or group it, and which aggregations, granularities and defaults apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from usagekit.core.meters import Aggregation, Meter
from usagekit.core.windows import Granularity

CONTEXT_EVENT = "ld.context"
EVALUATION_EVENT = "ld.evaluation"
EVENT_EVENT = "ld.event"
DATA_EXPORT_EVENT = "ld.data_export_event"
EXPERIMENTATION_EVENT = "ld.experimentation_event"
EXPERIMENTATION_KEY_EVENT = "ld.experimentation_key"
OBSERVABILITY_EVENT = "ld.observability"
SERVICE_CONNECTION_EVENT = "ld.service_connection"
STREAM_EVENT = "ld.stream"
VEGA_AI_EVENT = "ld.vega_ai"


def _dims(*names: str) -> dict[str, str]:
    """Dimensions named as the event's fields (LaunchDarkly's camelCase)."""
    return {name: name for name in names}


PRESETS: tuple[Meter, ...] = (
    Meter(
        "ld.contexts",
        CONTEXT_EVENT,
        Aggregation.UNIQUE_COUNT,
        "contextKey",
        _dims(
            "projectKey",
            "environmentKey",
            "contextKind",
            "sdkName",
            "sdkType",
            "sdkAppId",
            "anonymous",
            "primary",
            "category",
        ),
        unit="contexts",
        description="LaunchDarkly distinct context keys (MAU: primary contexts only)",
    ),
    Meter(
        "ld.evaluations",
        EVALUATION_EVENT,
        Aggregation.COUNT,
        dimensions=_dims("projectKey", "environmentKey", "flagKey", "variation"),
        unit="evaluations",
        description="LaunchDarkly flag evaluations, per flag and variation",
    ),
    Meter(
        "ld.events",
        EVENT_EVENT,
        Aggregation.COUNT,
        dimensions=_dims("kind"),
        unit="events",
        description="LaunchDarkly events received or published",
    ),
    Meter(
        "ld.data_export_events",
        DATA_EXPORT_EVENT,
        Aggregation.COUNT,
        dimensions=_dims("projectKey", "environmentKey", "eventKind"),
        unit="events",
        description="LaunchDarkly data export events",
    ),
    Meter(
        "ld.experimentation_events",
        EXPERIMENTATION_EVENT,
        Aggregation.COUNT,
        dimensions=_dims("projectKey", "environmentKey", "eventKey", "eventKind"),
        unit="events",
        description="LaunchDarkly experimentation events",
    ),
    Meter(
        "ld.experimentation_keys",
        EXPERIMENTATION_KEY_EVENT,
        Aggregation.UNIQUE_COUNT,
        "key",
        _dims("projectKey", "environmentKey", "experimentId"),
        unit="keys",
        description="LaunchDarkly distinct experimentation keys",
    ),
    Meter(
        "ld.observability",
        OBSERVABILITY_EVENT,
        Aggregation.SUM,
        "count",
        _dims("projectKey", "kind"),
        unit="items",
        description="LaunchDarkly observability errors, logs, metrics, sessions and traces",
    ),
    Meter(
        "ld.service_connection_minutes",
        SERVICE_CONNECTION_EVENT,
        Aggregation.SUM,
        "minutes",
        _dims(
            "projectKey",
            "environmentKey",
            "connectionType",
            "relayVersion",
            "sdkName",
            "sdkVersion",
            "sdkType",
            "sdkAppId",
        ),
        unit="min",
        description="LaunchDarkly service connection minutes",
    ),
    Meter(
        "ld.stream_connections",
        STREAM_EVENT,
        Aggregation.SUM,
        "connections",
        _dims("source", "sdk", "version"),
        unit="connections",
        description="LaunchDarkly streaming connections, per source, SDK and version",
    ),
    Meter(
        "ld.vega_ai",
        VEGA_AI_EVENT,
        Aggregation.SUM,
        "count",
        _dims("projectKey"),
        unit="uses",
        description="LaunchDarkly Vega AI usage",
    ),
)

DAILY, HOURLY, MONTHLY = "daily", "hourly", "monthly"
GRANULARITIES = {DAILY: Granularity.DAY, HOURLY: Granularity.HOUR, MONTHLY: Granularity.MONTH}
# aggregationType -> (the engine's aggregation type, granularities allowed with it)
AggregationTable = Mapping[str, tuple[str, tuple[str, ...]]]
MONTHLY_WITH_MTD: AggregationTable = {
    "month_to_date": ("month_to_date", (DAILY, MONTHLY)),
    "incremental": ("incremental", (DAILY,)),
    "rolling_30d": ("rolling_30d", (DAILY,)),
}
HOURLY_TOO: AggregationTable = {
    "month_to_date": ("month_to_date", (DAILY, HOURLY, MONTHLY)),
    "incremental": ("incremental", (DAILY, HOURLY)),
}
LEGACY_MAU: AggregationTable = {
    "rolling_30d": ("rolling_30d", (DAILY,)),
    "month_to_date": ("month_to_date", (DAILY,)),
    "daily_incremental": ("incremental", (DAILY,)),
}
TRUE_FALSE = ("true", "false")
CLIENT_SERVER = ("client", "server")


class Reply(StrEnum):
    SERIES = "SeriesListRep"  # integer values
    SERIES_FLOAT = "SeriesListRepFloat"
    SDKS = "SdkListRep"  # the series_by groups with usage, as names
    SDK_VERSIONS = "SdkVersionListRep"


class Since(StrEnum):
    """Where `from` defaults to, counted back from now (UTC)."""

    MONTH_START = "the beginning of the current month"
    DAYS_30 = "30 days ago"
    HOURS_24 = "24 hours ago"
    DAYS_7 = "seven days ago"
    DAYS_60 = "60 days ago"


@dataclass(frozen=True)
class Endpoint:
    """One route under /api/v2/usage/ and how its parameters map onto a preset meter."""

    method: str  # AccountUsageBetaApi's method name
    path: str  # below /api/v2/usage, with {path parameters}
    meter: str
    reply: Reply = Reply.SERIES
    # path parameter -> (dimension it filters, allowed values; () = any)
    path_filters: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    filters: Mapping[str, str] = field(default_factory=dict)  # repeatable parameter -> dimension
    choices: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict
    )  # parameter -> valid values
    defaults: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # filter when not given
    fixed: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict
    )  # dimension -> values, always
    group_param: str = "groupBy"
    group_by: Mapping[str, str] = field(default_factory=dict)  # groupBy value -> dimension
    series_by: tuple[tuple[str, str], ...] = ()  # (label, dimension) always grouped, first
    aggregations: AggregationTable | None = None  # None: no aggregationType parameter
    default_aggregation: str = "month_to_date"
    aggregation: str = "incremental"  # used when aggregationType is not offered
    granularity: bool = True  # `granularity` offered (when aggregations are)
    auto_granularity: bool = False  # minutely within 2 hours, hourly within 2 days, else daily
    since: Since = Since.MONTH_START
    ranged: bool = True  # takes from/to
    seconds: bool = False  # from/to in Unix seconds (else milliseconds)
    tz: bool = False
    max_days: int | None = None
    env_needs_project: tuple[str, str] | None = None  # (environment param, project param)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The query parameters this endpoint takes."""
        names: list[str] = ["from", "to"] if self.ranged else []
        names += list(self.filters)
        if self.group_by:
            names.append(self.group_param)
        if self.aggregations is not None:
            names.append("aggregationType")
            if self.granularity:
                names.append("granularity")
        if self.tz:
            names.append("tz")
        return tuple(dict.fromkeys(names))
