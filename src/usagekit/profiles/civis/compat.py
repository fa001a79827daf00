"""Civis `client.usage` against usagekit's Civis profile.

`APIClient(api_key=None)` reads CIVIS_API_KEY and CIVIS_API_ENDPOINT (e.g.
http://localhost:8200/civis/) like civis-python; `client.usage` has the seed's
five methods and returns `Response` objects with snake_case attributes. Requests go
through usagekit.Client.request (its retries); other keyword arguments
(max_retries=...) go to that Client.
"""

from __future__ import annotations

import base64
import os
import re
import warnings
from typing import Any

from usagekit.client.sync import Client
from usagekit.errors import ConfigurationError

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class Response(dict[str, Any]):
    """One statistic: keys and attributes in snake_case, as civis.Response gives them."""

    def __init__(self, wire: dict[str, Any]) -> None:
        super().__init__({_CAMEL.sub("_", k).lower(): v for k, v in wire.items()})

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def json(self) -> dict[str, Any]:
        return dict(self)


class Usage:
    """The /usage endpoint: LLM runs, organisation summaries, matching runs."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _get(self, path: str, **params: Any) -> Any:
        query = [(k, str(v)) for k, v in params.items() if v is not None]
        return self._client.request("GET", "/" + path, params=query).json()

    def get_llm(self, id: int) -> Response:
        """One LLM usage statistic by its id."""
        return Response(self._get(f"usage/llm/{int(id)}"))

    def list_llm(
        self,
        *,
        org_id: int | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
    ) -> list[Response]:
        """LLM usage statistics; with no dates, this month up to the end of today (UTC)."""
        rows = self._get("usage/llm", org_id=org_id, start_date=start_date, end_date=end_date)
        return [Response(r) for r in rows]

    def get_llm_organization_summary(
        self, org_id: int, *, start_date: str | None = None, end_date: str | None = None
    ) -> Response:
        """Credits used by one organisation in the range."""
        path = f"usage/llm/organization/{int(org_id)}/summary"
        return Response(self._get(path, start_date=start_date, end_date=end_date))

    def list_llm_organization_summary(
        self, org_id: int, *, start_date: str | None = None, end_date: str | None = None
    ) -> Response:
        """Deprecated name of get_llm_organization_summary (warns, then does the same)."""
        warnings.warn(
            "The method name <client>.usage.list_llm_organization_summary is deprecated; "
            "use <client>.usage.get_llm_organization_summary for the same method.",
            FutureWarning,
            stacklevel=2,
        )
        return self.get_llm_organization_summary(org_id, start_date=start_date, end_date=end_date)

    def list_matching(
        self,
        *,
        org_id: int | None = None,
        task: str | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
    ) -> list[Response]:
        """Matching runs, optionally of one organisation and task (IDR or CDM)."""
        rows = self._get(
            "usage/matching", org_id=org_id, task=task, start_date=start_date, end_date=end_date
        )
        return [Response(r) for r in rows]


class APIClient:
    """The part of civis.APIClient usagekit serves: `usage`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        endpoint: str | None = None,
        timeout: float = 60,
        **options: Any,
    ) -> None:
        key = api_key or os.environ.get("CIVIS_API_KEY")
        if not key:
            raise ConfigurationError("no API key: pass api_key= or set CIVIS_API_KEY")
        base = endpoint or os.environ.get("CIVIS_API_ENDPOINT")
        if not base:
            raise ConfigurationError(
                "no endpoint: pass endpoint= or set CIVIS_API_ENDPOINT (http://HOST:PORT/civis/)"
            )
        # As civis-python: HTTP Basic with the key as the user name.
        basic = base64.b64encode(f"{key}:".encode()).decode()
        self._client = Client(
            base.rstrip("/"),
            auth_headers={"Authorization": f"Basic {basic}"},
            timeout=timeout,
            **options,
        )
        self.usage = Usage(self._client)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> APIClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


__all__ = ["APIClient", "Response", "Usage"]
