"""`usagekit demo`: tenants, meters and months of realistic usage in a running server."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from contextlib import ExitStack, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from usagekit.cli import samples
from usagekit.cli.common import KeyOption, UrlOption, app, connect, console, out
from usagekit.core.clock import SYSTEM_CLOCK

if TYPE_CHECKING:
    from usagekit.client import Client


@dataclass(frozen=True)
class DemoTenant:
    name: str
    profiles: tuple[str, ...]  # names of sample sets (samples.PROFILES)
    scale: float


# Demo tenants besides 'default', with their volume; which sample sets each gets is
# said by the sets themselves (Samples.demo_tenants).
_OTHERS = {"acme-hpc": 0.5, "globex-maps": 0.5, "initech-ai": 0.4}
# The caller's own tenant gets every sample set, so the bootstrap key sees data at once.
TENANTS = (
    DemoTenant("default", tuple(samples.PROFILES), 1.0),
    *(
        DemoTenant(
            name, tuple(s.name for s in samples.PROFILES.values() if name in s.demo_tenants), scale
        )
        for name, scale in _OTHERS.items()
    ),
)


def default_keys_file() -> Path:
    """Where the demo keeps its tenants' admin keys: the user's state folder (XDG)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "usagekit" / "demo-keys.json"


@dataclass
class KeysFile:
    """The demo tenants' admin keys, per server URL, so that a second run reuses them."""

    path: Path

    def load(self, url: str) -> dict[str, str]:
        try:
            found = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        keys = found.get(url) if isinstance(found, dict) else None
        return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}

    def save(self, url: str, keys: dict[str, str]) -> None:
        try:
            found = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            found = {}
        found = {**(found if isinstance(found, dict) else {}), url: keys}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(found, option=orjson.OPT_INDENT_2))


def tenant_key(admin: Client, tenant: str, known: str | None) -> tuple[str, bool]:
    """An admin key of `tenant`: the one kept from an earlier run if it still works, else new."""
    from usagekit.errors import AuthenticationError, ConflictError

    if known:
        try:
            with connect(admin.url, known) as client:
                client.meters()
            return known, False
        except AuthenticationError:
            pass  # another database, or revoked: make a new one
    with suppress(ConflictError):
        admin.create_tenant(tenant)
    made = admin.create_key("admin", tenant=tenant, name="demo")
    assert made.key is not None
    return made.key, True


def differs_from(client: Client, wanted: Mapping[str, Any]) -> str | None:
    """How an existing meter differs from the demo's definition of it, if it does."""
    have = asdict(client.get_meter(str(wanted["slug"])))
    diff = [
        f"{name} {have.get(name)!r} (the demo's: {value!r})"
        for name, value in wanted.items()
        if (value or None) != (have.get(name) or None)
    ]
    if not diff:
        return None
    return f"meter {wanted['slug']} exists with another definition, kept: " + "; ".join(diff)


@app.command()
def demo(
    days: Annotated[int, typer.Option(help="Days of history, ending now.", min=1, max=730)] = 90,
    scale: Annotated[float, typer.Option(help="Multiply the event volume.", min=0.01)] = 1.0,
    keys_file: Annotated[
        Path | None,
        typer.Option(
            envvar="USAGEKIT_DEMO_KEYS",
            help="Where the demo tenants' admin keys are kept between runs "
            "[default: $XDG_STATE_HOME/usagekit/demo-keys.json].",
            show_default=False,
        ),
    ] = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Load sample tenants, meters and usage for every seed profile into a running server.

    Needs the admin key of tenant 'default' (the one printed on first start). Safe to
    run again: events already stored count as duplicates, and the other tenants' admin
    keys made by the first run (kept in --keys-file) are used again.
    """
    now_ms = SYSTEM_CLOCK.now_ms()
    first_day = now_ms // samples.DAY_MS - days + 1
    from usagekit.errors import ConflictError

    plan = [(t, samples.PROFILES[p]) for t in TENANTS for p in t.profiles]
    total = sum(
        samples.count(profile, t.name, first_day, now_ms // samples.DAY_MS, t.scale * scale)
        for t, profile in plan
    )
    kept = KeysFile(keys_file or default_keys_file())
    warnings: list[str] = []
    keys: dict[str, str] = {}
    new: set[str] = set()
    sent = 0
    started = time.perf_counter()
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with connect(url, api_key) as admin, Progress(*columns, console=console) as progress:
        task = progress.add_task("loading", total=total)
        known = kept.load(admin.url)
        for tenant in TENANTS:
            if tenant.name != "default":
                keys[tenant.name], made = tenant_key(admin, tenant.name, known.get(tenant.name))
                if made:
                    new.add(tenant.name)
                    kept.save(admin.url, {**known, **keys})
            with ExitStack() as stack:
                client = admin
                if tenant.name != "default":
                    client = stack.enter_context(connect(admin.url, keys[tenant.name]))
                for name in tenant.profiles:
                    profile = samples.PROFILES[name]
                    for meter in profile.meters:
                        try:
                            client.create_meter(**meter)
                        except ConflictError:  # from an earlier run, or the user's own
                            differs = differs_from(client, meter)
                            if differs:
                                warnings.append(f"{tenant.name}: {differs}")
                    progress.update(task, description=f"{tenant.name}: {name}")
                    stream = samples.events(
                        profile, tenant.name, first_day, now_ms, tenant.scale * scale
                    )
                    result = client.send(stream, on_progress=lambda n: progress.advance(task, n))
                    sent += result.accepted + result.duplicates
        progress.update(task, total=sent, completed=sent)  # today ends now, not at midnight
    elapsed = time.perf_counter() - started
    console.print(f"loaded {sent:,} events in {elapsed:.0f} s ({sent / max(elapsed, 1e-9):,.0f}/s)")
    for warning in warnings:
        console.print(f"[yellow]note:[/yellow] {warning}", highlight=False)
    console.print(f"tenants and their admin keys (kept in {kept.path} for the next run):")
    for tenant in TENANTS:
        key = keys.get(tenant.name, "(your key)")
        how = "new" if tenant.name in new else ("kept" if tenant.name in keys else "")
        out.print(
            f"  {tenant.name:<12} {', '.join(tenant.profiles):<34} {how:<4} {key}", highlight=False
        )
    console.print(
        "try: usagekit meters list; usagekit query cpu_time --group-by project --from "
        + time.strftime("%Y-%m-01")
    )
