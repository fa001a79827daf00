"""LaunchDarkly's `AccountUsageBetaApi` on usagekit's SDK, against the LaunchDarkly profile.

Code written for launchdarkly-api runs unchanged, with usagekit's classes:

    configuration = Configuration(host="http://localhost:8200")
    configuration.api_key["ApiKey"] = key
    with ApiClient(configuration) as api_client:
        api = AccountUsageBetaApi(api_client)
        reply = api.get_contexts_total_usage(group_by="sdkName", aggregation_type="rolling_30d")

Requests go through usagekit.Client.request (retries, Retry-After on 429); errors are
usagekit.errors classes. Repeatable filters take a string or a list of strings;
`var_from` and `to` also take an int or a datetime (sent in the endpoint's unit).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

from usagekit.client.sync import Client
from usagekit.profiles.launchdarkly.compat_models import (
    SdkListRep,
    SdkVersionListRep,
    SdkVersionRep,
    SeriesListRep,
    SeriesListRepFloat,
)
from usagekit.profiles.launchdarkly.endpoints import BY_METHOD
from usagekit.profiles.launchdarkly.model import Endpoint

Time = str | int | datetime | None
Values = str | Sequence[str] | None
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
PREFIX = "/api/v2/usage"


def _snake(wire: str) -> str:
    """A wire parameter's keyword in the client: from -> var_from, projectKey -> project_key."""
    return "var_from" if wire == "from" else _CAMEL.sub("_", wire).lower()


@dataclass
class Configuration:
    """host and api_key["ApiKey"], as launchdarkly_api.Configuration takes them.

    With no host, USAGEKIT_URL; with no key, USAGEKIT_API_KEY.
    """

    host: str | None = None
    api_key: dict[str, str] = field(default_factory=dict)
    api_key_prefix: dict[str, str] = field(default_factory=dict)  # ignored: Bearer is sent


class ApiClient:
    """The connection: a usagekit.Client for the configuration's host and key."""

    def __init__(self, configuration: Configuration | None = None, **options: Any) -> None:
        self.configuration = configuration or Configuration()
        host = self.configuration.host or os.environ.get("USAGEKIT_URL")
        key = self.configuration.api_key.get("ApiKey") or os.environ.get("USAGEKIT_API_KEY")
        self.client = Client(host, key, **options)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def get(self, ep: Endpoint, given: Mapping[str, Any]) -> Any:
        """GET one endpoint with the method's arguments; the reply's JSON."""
        path = ep.path
        for name in ep.path_filters:
            path = path.replace("{" + name + "}", quote(str(given[_snake(name)]), safe=""))
        params: list[tuple[str, str]] = []
        for wire in ep.parameters:
            value = given.get(_snake(wire))
            if value is None:
                continue
            if wire in ("from", "to"):
                params.append((wire, _stamp(value, ep.seconds)))
            elif isinstance(value, str):
                params.append((wire, value))
            else:
                params.extend((wire, str(v)) for v in value)
        return self.client.request("GET", PREFIX + path, params=params).json()


def _stamp(value: str | int | datetime, seconds: bool) -> str:
    """A time as the endpoint reads it: Unix seconds or milliseconds (naive means UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        ms = int(aware.timestamp() * 1000)
        return str(ms // 1000 if seconds else ms)
    return str(value)


class AccountUsageBetaApi:
    """The seed's 23 methods, with its names and keyword arguments."""

    def __init__(self, api_client: ApiClient | None = None) -> None:
        self.api_client = api_client or ApiClient()

    def _call(self, method: str, given: Mapping[str, Any]) -> Any:
        return self.api_client.get(BY_METHOD[method], given)

    def _series(self, method: str, given: Mapping[str, Any]) -> SeriesListRep:
        body = self._call(method, given)
        return SeriesListRep(body["_links"], body["metadata"], body["series"])

    def _series_float(self, method: str, given: Mapping[str, Any]) -> SeriesListRepFloat:
        body = self._call(method, given)
        return SeriesListRepFloat(body["_links"], body["metadata"], body["series"])

    def _sdks(self, method: str, given: Mapping[str, Any]) -> SdkListRep:
        body = self._call(method, given)
        return SdkListRep(body["_links"], body["sdks"])

    def _sdk_versions(self, method: str, given: Mapping[str, Any]) -> SdkVersionListRep:
        body = self._call(method, given)
        versions = [SdkVersionRep(v["sdk"], v["version"]) for v in body["sdkVersions"]]
        return SdkVersionListRep(body["_links"], versions)

    def get_contexts_clientside_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        context_kind: Values = None,
        sdk_name: Values = None,
        anonymous: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
    ) -> SeriesListRep:
        """Get contexts clientside usage."""
        return self._series("get_contexts_clientside_usage", locals())

    def get_contexts_serverside_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        context_kind: Values = None,
        sdk_name: Values = None,
        anonymous: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
    ) -> SeriesListRep:
        """Get contexts serverside usage."""
        return self._series("get_contexts_serverside_usage", locals())

    def get_contexts_total_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        context_kind: Values = None,
        sdk_name: Values = None,
        sdk_type: Values = None,
        anonymous: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
    ) -> SeriesListRep:
        """Get contexts total usage."""
        return self._series("get_contexts_total_usage", locals())

    def get_data_export_events_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        event_kind: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
    ) -> SeriesListRep:
        """Get data export events usage."""
        return self._series("get_data_export_events_usage", locals())

    def get_evaluations_usage(
        self,
        project_key: str,
        environment_key: str,
        feature_flag_key: str,
        var_from: Time = None,
        to: Time = None,
        tz: str | None = None,
    ) -> SeriesListRep:
        """Get evaluations usage."""
        return self._series("get_evaluations_usage", locals())

    def get_events_usage(self, type: str, var_from: Time = None, to: Time = None) -> SeriesListRep:
        """Get events usage."""
        return self._series("get_events_usage", locals())

    def get_experimentation_events_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        event_key: Values = None,
        event_kind: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
    ) -> SeriesListRep:
        """Get experimentation events usage."""
        return self._series("get_experimentation_events_usage", locals())

    def get_experimentation_keys_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        experiment_id: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
    ) -> SeriesListRep:
        """Get experimentation keys usage."""
        return self._series("get_experimentation_keys_usage", locals())

    def get_mau_clientside_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        sdk_name: Values = None,
        anonymous: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
    ) -> SeriesListRep:
        """Get MAU clientside usage."""
        return self._series("get_mau_clientside_usage", locals())

    def get_mau_sdks_by_type(
        self, var_from: Time = None, to: Time = None, sdktype: Values = None
    ) -> SdkListRep:
        """Get MAU SDKs by type."""
        return self._sdks("get_mau_sdks_by_type", locals())

    def get_mau_total_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        sdk_name: Values = None,
        sdk_type: Values = None,
        anonymous: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
    ) -> SeriesListRep:
        """Get MAU total usage."""
        return self._series("get_mau_total_usage", locals())

    def get_mau_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project: Values = None,
        environment: Values = None,
        sdktype: Values = None,
        sdk: Values = None,
        anonymous: Values = None,
        groupby: Values = None,
        aggregation_type: str | None = None,
        context_kind: Values = None,
    ) -> SeriesListRep:
        """Get MAU usage."""
        return self._series("get_mau_usage", locals())

    def get_mau_usage_by_category(self, var_from: Time = None, to: Time = None) -> SeriesListRep:
        """Get MAU usage by category."""
        return self._series("get_mau_usage_by_category", locals())

    def get_observability_errors_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        granularity: str | None = None,
        aggregation_type: str | None = None,
    ) -> SeriesListRep:
        """Get observability errors usage."""
        return self._series("get_observability_errors_usage", locals())

    def get_observability_logs_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        granularity: str | None = None,
        aggregation_type: str | None = None,
    ) -> SeriesListRep:
        """Get observability logs usage."""
        return self._series("get_observability_logs_usage", locals())

    def get_observability_metrics_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        granularity: str | None = None,
        aggregation_type: str | None = None,
    ) -> SeriesListRep:
        """Get observability metrics usage."""
        return self._series("get_observability_metrics_usage", locals())

    def get_observability_sessions_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        granularity: str | None = None,
        aggregation_type: str | None = None,
    ) -> SeriesListRep:
        """Get observability sessions usage."""
        return self._series("get_observability_sessions_usage", locals())

    def get_observability_traces_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        granularity: str | None = None,
        aggregation_type: str | None = None,
    ) -> SeriesListRep:
        """Get observability traces usage."""
        return self._series("get_observability_traces_usage", locals())

    def get_service_connections_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        environment_key: Values = None,
        connection_type: Values = None,
        relay_version: Values = None,
        sdk_name: Values = None,
        sdk_version: Values = None,
        sdk_type: Values = None,
        group_by: Values = None,
        aggregation_type: str | None = None,
        granularity: str | None = None,
        sdk_app_id: Values = None,
    ) -> SeriesListRepFloat:
        """Get service connections usage."""
        return self._series_float("get_service_connections_usage", locals())

    def get_stream_usage(
        self, source: str, var_from: Time = None, to: Time = None, tz: str | None = None
    ) -> SeriesListRep:
        """Get stream usage."""
        return self._series("get_stream_usage", locals())

    def get_stream_usage_by_sdk_version(
        self,
        source: str,
        var_from: Time = None,
        to: Time = None,
        tz: str | None = None,
        sdk: Values = None,
        version: Values = None,
    ) -> SeriesListRep:
        """Get stream usage by SDK version."""
        return self._series("get_stream_usage_by_sdk_version", locals())

    def get_stream_usage_sdkversion(self, source: str) -> SdkVersionListRep:
        """Get stream usage SDK versions."""
        return self._sdk_versions("get_stream_usage_sdkversion", locals())

    def get_vega_ai_usage(
        self,
        var_from: Time = None,
        to: Time = None,
        project_key: Values = None,
        granularity: str | None = None,
        aggregation_type: str | None = None,
    ) -> SeriesListRep:
        """Get Vega AI usage."""
        return self._series("get_vega_ai_usage", locals())


__all__ = [
    "AccountUsageBetaApi",
    "ApiClient",
    "Configuration",
    "SdkListRep",
    "SdkVersionListRep",
    "SdkVersionRep",
    "SeriesListRep",
    "SeriesListRepFloat",
]
