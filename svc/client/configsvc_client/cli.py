"""The operators' command line: ``python -m configsvc_client --url URL watch|get|put ...``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from configsvc_client import api, errors, events, models, watch

DEFAULT_URL = "http://127.0.0.1:8080"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m configsvc_client", description=__doc__)
    top.add_argument(
        "--url",
        default=os.environ.get("CONFIGSVC_URL", DEFAULT_URL),
        help=f"the service (default: $CONFIGSVC_URL or {DEFAULT_URL})",
    )
    top.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    top.add_argument(
        "--token",
        default=os.environ.get("CONFIGSVC_TOKEN"),
        help="access token (default: $CONFIGSVC_TOKEN)",
    )
    commands = top.add_subparsers(dest="command", required=True)

    w = commands.add_parser("watch", help="print each change as one JSON line as it arrives")
    w.add_argument("application", help="name or id")
    w.add_argument("--count", type=int, default=None, help="exit after this many changes")
    w.add_argument("--cache", default=None, help="last-known-good file to use and keep")

    g = commands.add_parser("get", help="print a configuration's config as JSON")
    g.add_argument("application", help="name or id")
    g.add_argument("configuration", help="name")
    g.add_argument("--full", action="store_true", help="print the whole resource")

    p = commands.add_parser("put", help="create the configuration, or replace it")
    p.add_argument("application", help="name or id")
    p.add_argument("configuration", help="name")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="a file holding the config, a JSON object ('-': stdin)")
    source.add_argument("--json", help="the config, a JSON object")
    p.add_argument("--comments", default=None, help="comments (default: keep the current ones)")
    return top


async def run(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; the exit status is 0, 1 for a failed call, 2 for bad input."""
    args = parser().parse_args(argv)
    out, err = out or sys.stdout, err or sys.stderr
    try:
        async with api.ConfigClient(args.url, timeout=args.timeout, token=args.token) as client:
            if args.command == "watch":
                return await _watch(client, args, out)
            if args.command == "get":
                return await _get(client, args, out)
            return await _put(client, args, out)
    except errors.ClientError as exc:
        print(f"error: {exc}", file=err)
        for field_error in getattr(exc, "errors", []):
            print(f"  {field_error.field}: {field_error.message}", file=err)
        return 1
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=err)
        return 2


def main() -> None:
    try:
        sys.exit(asyncio.run(run(sys.argv[1:])))
    except KeyboardInterrupt:
        sys.exit(130)


async def _watch(client: api.ConfigClient, args: argparse.Namespace, out: TextIO) -> int:
    async with client.watch(args.application, cache_path=args.cache) as view:
        stream = view.events()
        seen = 0
        async for event in stream:
            print(json.dumps(_event_line(event)), file=out, flush=True)
            seen += 1
            if args.count is not None and seen >= args.count:
                break
    return 0


def _event_line(event: events.Event) -> dict[str, Any]:
    if isinstance(event, events.Rejection):
        return {"revision": event.revision, "name": event.name, "rejected": event.reason}
    return {
        "revision": event.revision,
        "op": event.op,
        "name": event.name,
        "old": event.old,
        "new": event.new,
    }


async def _get(client: api.ConfigClient, args: argparse.Namespace, out: TextIO) -> int:
    application = await _application(client, args.application)
    found = await client.find_configuration(application.id, args.configuration)
    if found is None:
        raise errors.NotFound(404, None, f"no configuration {args.configuration!r}")
    shown = found.model_dump(mode="json") if args.full else found.config
    print(json.dumps(shown, indent=2), file=out)
    return 0


async def _put(client: api.ConfigClient, args: argparse.Namespace, out: TextIO) -> int:
    config = _read_config(args.file, args.json)
    application = await _application(client, args.application)
    found = await client.find_configuration(application.id, args.configuration)
    if found is None:
        result = await client.create_configuration(
            application.id, args.configuration, config, args.comments or ""
        )
    else:
        # Replace the version we looked at, not one someone wrote in between.
        current = await client.get_configuration_tagged(found.id)
        comments = current.value.comments if args.comments is None else args.comments
        result = await client.replace_configuration(
            found.id, args.configuration, config, comments, if_match=current.etag or None
        )
    print(json.dumps(result.model_dump(mode="json"), indent=2), file=out)
    return 0


def _read_config(file: str | None, text: str | None) -> dict[str, Any]:
    if file is not None:
        text = sys.stdin.read() if file == "-" else Path(file).read_text()
    value = json.loads(text or "")
    if not isinstance(value, dict):
        raise ValueError("the config must be a JSON object")
    return value


async def _application(client: api.ConfigClient, ref: str) -> models.Application:
    if watch.looks_like_id(ref):
        return await client.get_application(ref)
    found = await client.find_application(ref)
    if found is None:
        raise errors.NotFound(404, None, f"no application {ref!r}")
    return found
