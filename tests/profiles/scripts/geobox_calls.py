"""Run in the geobox venv: the usage methods of GeoboxClient and AsyncGeoboxClient.

argv[1] is JSON {"host", "keys": {name: secret}, "calls": [[key name, method, kwargs]]}.
Each call runs through the sync and the async client; kwargs name the resource as
{"user": "me" | id} or {"apikey": <key value>, "owner": user id or null}, dates as
"%Y-%m-%dT%H:%M:%S", scale/param by value (unknown values go through as given).
Prints JSON {"sync": [...], "async": [...], "keys": {...}, "users": {...}}; a failed
call is reported as {"error": class name, "message": text}.
"""

import asyncio
import json
import sys
from datetime import datetime
from types import SimpleNamespace

from geobox import GeoboxClient
from geobox.aio import AsyncGeoboxClient
from geobox.aio.usage import AsyncUsage
from geobox.enums import UsageParam, UsageScale
from geobox.exception import GeoboxError
from geobox.usage import Usage

spec = json.loads(sys.argv[1])
HOST, VER = spec["host"], "v1/"


def enum(kind, value):
    try:
        return kind(value)
    except ValueError:
        return SimpleNamespace(value=value)  # what a caller passing a bad value sends


def prepare(kwargs):
    out = dict(kwargs)
    for name in ("from_date", "to_date"):
        if out.get(name):
            out[name] = datetime.strptime(out[name], "%Y-%m-%dT%H:%M:%S")
    if "scale" in out:
        out["scale"] = enum(UsageScale, out["scale"])
    if "param" in out:
        out["param"] = enum(UsageParam, out["param"])
    return out


def failure(exc):
    return {"error": type(exc).__name__, "message": str(exc)}


def key_json(k):
    return {"id": k.id, "key": k.key, "name": k.name, "user_id": k.data.get("user_id")}


def sync_resource(client, what):
    if "user" in what:
        return client.get_user() if what["user"] == "me" else client.get_user(what["user"])
    found = client.get_apikeys(user_id=what.get("owner"), limit=100)
    return next(k for k in found if k.key == what["apikey"])


async def async_resource(client, what):
    if "user" in what:
        if what["user"] == "me":
            return await client.get_user()
        return await client.get_user(what["user"])
    found = await client.get_apikeys(user_id=what.get("owner"), limit=100)
    return next(k for k in found if k.key == what["apikey"])


def run_sync():
    out, clients = [], {}
    for name, method, kwargs in spec["calls"]:
        try:
            client = clients.get(name) or GeoboxClient(
                host=HOST, ver=VER, apikey=spec["keys"][name]
            )
            clients[name] = client
            kw = prepare(kwargs)
            if "resource" in kw:
                kw["resource"] = sync_resource(client, kw["resource"])
            # the module's class method on odd calls, the client's method on even ones
            if len(out) % 2:
                out.append(getattr(Usage, method)(client, **kw))
            else:
                out.append(getattr(client, method)(**kw))
        except GeoboxError as exc:
            out.append(failure(exc))
    return out


async def run_async():
    out = []
    for name, method, kwargs in spec["calls"]:
        try:
            async with AsyncGeoboxClient(host=HOST, ver=VER, apikey=spec["keys"][name]) as client:
                kw = prepare(kwargs)
                if "resource" in kw:
                    kw["resource"] = await async_resource(client, kw["resource"])
                if len(out) % 2:
                    out.append(await getattr(AsyncUsage, method)(client, **kw))
                else:
                    out.append(await getattr(client, method)(**kw))
        except GeoboxError as exc:
            out.append(failure(exc))
    return out


def listings():
    keys, users = {}, {}
    for name, secret in spec["keys"].items():
        client = GeoboxClient(host=HOST, ver=VER, apikey=secret)
        try:
            keys[name] = [key_json(k) for k in client.get_apikeys(limit=100)]
            if keys[name]:
                keys[name + ":detail"] = key_json(client.get_apikey(keys[name][0]["id"]))
        except GeoboxError as exc:
            keys[name] = failure(exc)
        try:
            me = client.get_user()
            users[name] = {"id": me.user_id, "username": me.username, "role": me.role.value}
        except GeoboxError as exc:
            users[name] = failure(exc)
    return keys, users


keys, users = listings()
print(json.dumps({"sync": run_sync(), "async": asyncio.run(run_async()), "keys": keys,
                  "users": users}))  # fmt: skip
