"""`usagekit demo`: tenants, meters and months of realistic usage in a running server."""

from __future__ import annotations

import time
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from usagekit.cli import samples
from usagekit.cli.common import KeyOption, UrlOption, app, connect, console, out
from usagekit.core.clock import SYSTEM_CLOCK


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


@app.command()
def demo(
    days: Annotated[int, typer.Option(help="Days of history, ending now.", min=1, max=730)] = 90,
    scale: Annotated[float, typer.Option(help="Multiply the event volume.", min=0.01)] = 1.0,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Load sample tenants, meters and usage for every seed profile into a running server.

    Needs the admin key of tenant 'default' (the one printed on first start). Safe to
    run again: events already stored count as duplicates.
    """
    now_ms = SYSTEM_CLOCK.now_ms()
    first_day = now_ms // samples.DAY_MS - days + 1
    from usagekit.errors import ConflictError

    plan = [(t, samples.PROFILES[p]) for t in TENANTS for p in t.profiles]
    total = sum(
        samples.count(profile, t.name, first_day, now_ms // samples.DAY_MS, t.scale * scale)
        for t, profile in plan
    )
    keys: dict[str, str] = {}
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
        for tenant in TENANTS:
            if tenant.name != "default":
                with suppress(ConflictError):
                    admin.create_tenant(tenant.name)
                made = admin.create_key("admin", tenant=tenant.name, name="demo")
                assert made.key is not None
                keys[tenant.name] = made.key
            with ExitStack() as stack:
                client = admin
                if tenant.name != "default":
                    client = stack.enter_context(connect(admin.url, keys[tenant.name]))
                for name in tenant.profiles:
                    profile = samples.PROFILES[name]
                    for meter in profile.meters:
                        with suppress(ConflictError):  # there from an earlier run
                            client.create_meter(**meter)
                    progress.update(task, description=f"{tenant.name}: {name}")
                    stream = samples.events(
                        profile, tenant.name, first_day, now_ms, tenant.scale * scale
                    )
                    result = client.send(stream, on_progress=lambda n: progress.advance(task, n))
                    sent += result.accepted + result.duplicates
        progress.update(task, total=sent, completed=sent)  # today ends now, not at midnight
    elapsed = time.perf_counter() - started
    console.print(f"loaded {sent:,} events in {elapsed:.0f} s ({sent / max(elapsed, 1e-9):,.0f}/s)")
    console.print("tenants (each admin key is shown only now):")
    for tenant in TENANTS:
        key = keys.get(tenant.name, "(your key)")
        out.print(f"  {tenant.name:<12} {', '.join(tenant.profiles):<34} {key}", highlight=False)
    console.print(
        "try: usagekit meters list; usagekit query cpu_time --group-by project --from "
        + time.strftime("%Y-%m-01")
    )
