"""Range presets (time.js, run in Chromium) against zoneinfo: DST and odd offsets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Adelaide",
         "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns"]  # fmt: skip
# Instants around DST changes and month ends, in UTC.
NOWS = ["2026-03-08T07:30:00Z", "2026-03-29T01:30:00Z", "2026-04-05T16:45:00Z",
        "2026-10-25T00:59:59Z", "2026-11-01T06:10:00Z", "2026-12-31T23:30:00Z",
        "2026-02-28T12:00:00Z"]  # fmt: skip


def midnight(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, datetime.min.time(), zone).timestamp() * 1000)


def expected(preset: str, tz: str, now: datetime) -> tuple[int, int]:
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    tomorrow = midnight(today + timedelta(days=1), zone)
    if preset == "24h":
        local = now.astimezone(zone)
        hour_start = local.replace(minute=0, second=0, microsecond=0)
        end = int(hour_start.timestamp() * 1000) + 3_600_000
        return end - 86_400_000, end
    if preset == "7d":
        return midnight(today - timedelta(days=6), zone), tomorrow
    if preset == "30d":
        return midnight(today - timedelta(days=29), zone), tomorrow
    return midnight(today.replace(day=1), zone), tomorrow


def test_presets_equal_zoneinfo(page: Page) -> None:
    cases = [(p, tz, now) for p in ("24h", "7d", "30d", "mtd") for tz in ZONES for now in NOWS]
    got = page.evaluate(
        """async (cases) => {
            const t = await import('/ui/js/time.js');
            return cases.map(([p, tz, now]) => {
              const r = t.rangeOf(p, tz, {}, Date.parse(now));
              return [r.from, r.to, t.isoIn(r.from, tz)];
            });
        }""",
        [[p, tz, now] for p, tz, now in cases],
    )
    for (preset, tz, now), (lo, hi, text) in zip(cases, got, strict=True):
        at = datetime.fromisoformat(now).astimezone(UTC)
        assert (lo, hi) == expected(preset, tz, at), (preset, tz, now)
        shown = datetime.fromisoformat(text)
        assert shown.timestamp() * 1000 == lo
        assert shown.utcoffset() == datetime.fromtimestamp(lo / 1000, ZoneInfo(tz)).utcoffset()
