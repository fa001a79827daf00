"""The reply models of compat.launchdarkly, with the fields and to_dict() of the vendor's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeriesListRep:
    """Integer series: series[k] = {"time": ms, "0": v0, "1": v1, ...}, metadata[i] per series."""

    links: dict[str, Any]
    metadata: list[dict[str, Any]]
    series: list[dict[str, int]]

    def to_dict(self) -> dict[str, Any]:
        return {"_links": self.links, "metadata": self.metadata, "series": self.series}


@dataclass(frozen=True)
class SeriesListRepFloat:
    """As SeriesListRep, with numbers that may be fractional (service connection minutes)."""

    links: dict[str, Any]
    metadata: list[dict[str, Any]]
    series: list[dict[str, int | float]]

    def to_dict(self) -> dict[str, Any]:
        return {"_links": self.links, "metadata": self.metadata, "series": self.series}


@dataclass(frozen=True)
class SdkListRep:
    links: dict[str, Any]
    sdks: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"_links": self.links, "sdks": self.sdks}


@dataclass(frozen=True)
class SdkVersionRep:
    sdk: str
    version: str


@dataclass(frozen=True)
class SdkVersionListRep:
    links: dict[str, Any]
    sdk_versions: list[SdkVersionRep]

    def to_dict(self) -> dict[str, Any]:
        versions = [{"sdk": v.sdk, "version": v.version} for v in self.sdk_versions]
        return {"_links": self.links, "sdkVersions": versions}
