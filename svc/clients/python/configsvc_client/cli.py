"""The operators' command line: ``python -m configsvc_client --url URL COMMAND ...``.

Commands: watch, get, put, history, diff, rollback. A configuration is named by its name, or by
its id (which also names a deleted one, for history and rollback).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any, TextIO

from configsvc_contract import exactjson, models

from configsvc_client import api, errors, events, watch

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
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing: print the JSON Patch the write would apply (exit 1 if the "
        "configuration fails its schema, with the violations)",
    )
    _history_commands(commands)
    return top


def _history_commands(commands: Any) -> None:
    h = commands.add_parser("history", help="print a configuration's versions, newest first")
    h.add_argument("application", help="name or id")
    h.add_argument("configuration", help="name or id")
    h.add_argument("--limit", type=int, default=20, help="how many (default 20)")

    d = commands.add_parser("diff", help="print the JSON Patch from one version to another")
    d.add_argument("application", help="name or id")
    d.add_argument("configuration", help="name or id")
    d.add_argument("old", type=int, help="from this version")
    d.add_argument("new", type=int, help="to this version")

    r = commands.add_parser(
        "rollback", help="APP CONFIG VERSION: back to a version; APP --to-revision R: all of it"
    )
    r.add_argument("application", help="name or id")
    r.add_argument("configuration", nargs="?", help="name or id")
    r.add_argument("version", nargs="?", type=int, help="the version to go back to")
    r.add_argument("--to-revision", type=int, default=None, help="the whole application")
    r.add_argument("--reason", default=None, help="why (recorded with the change)")
    r.add_argument(
        "--empty-ok",
        action="store_true",
        help="with --to-revision: allow a revision from before the application existed, "
        "which deletes every configuration it has (refused without this)",
    )


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
            if args.command == "put":
                return await _put(client, args, out)
            return await _HISTORY[args.command](client, args, out)
    except errors.ClientError as exc:
        print(f"error: {exc}", file=err)
        for field_error in getattr(exc, "errors", []):
            print(f"  {field_error.field}: {field_error.message}", file=err)
        if (hint := _hint(exc, args)) is not None:
            print(f"hint: {hint}", file=err)
        return 1
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=err)
        return 2


def _hint(exc: errors.ClientError, args: argparse.Namespace) -> str | None:
    """What to do about a failure that is the caller's setup, not the request."""
    if isinstance(exc, errors.Unauthorized):
        if not args.token:
            return "no token was sent: pass one with --token TOKEN or set CONFIGSVC_TOKEN"
        return (
            "the service refused the token given (--token or CONFIGSVC_TOKEN): check it, or "
            "ask an administrator for a new one"
        )
    if isinstance(exc, errors.Unavailable):
        return (
            f"could not reach the service at {_shown(args.url)}: start it, or give its address "
            "with --url URL or set CONFIGSVC_URL"
        )
    if isinstance(exc, errors.ValidationFailed) and exc.problem and exc.problem.first_revision:
        return "add --empty-ok to go back there anyway, deleting every configuration"
    return None


def _shown(url: str) -> str:
    """The address tried, without any credentials or query it may carry."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return repr(url)
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


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
            print(exactjson.dumps(_event_line(event)), file=out, flush=True)
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
    shown = found.model_dump() if args.full else found.config
    print(exactjson.dumps(shown, indent=2), file=out)
    return 0


async def _put(client: api.ConfigClient, args: argparse.Namespace, out: TextIO) -> int:
    config = _read_config(args.file, args.json)
    application = await _application(client, args.application)
    found = await client.find_configuration(application.id, args.configuration)
    if found is None:
        fields = (application.id, args.configuration, config, args.comments or "")
        if args.dry_run:
            return _dry_run(await client.create_configuration(*fields, dry_run=True), out)
        result = await client.create_configuration(*fields)
    else:
        # Replace the version we looked at, not one someone wrote in between.
        current = await client.get_configuration_tagged(found.id)
        comments = current.value.comments if args.comments is None else args.comments
        replace = (found.id, args.configuration, config, comments)
        etag = current.etag or None
        if args.dry_run:
            answer = await client.replace_configuration(*replace, if_match=etag, dry_run=True)
            return _dry_run(answer, out)
        result = await client.replace_configuration(*replace, if_match=etag)
    print(exactjson.dumps(result.model_dump(), indent=2), file=out)
    return 0


def _dry_run(answer: models.DryRun, out: TextIO) -> int:
    """The patch; then, if the write would be refused, each violation (and exit status 1)."""
    print(exactjson.dumps(answer.patch, indent=2), file=out)
    for violation in answer.errors:
        print(f"invalid: {violation.field}: {violation.message} ({violation.keyword})", file=out)
    return 0 if answer.valid else 1


async def _history(client: api.ConfigClient, args: argparse.Namespace, out: TextIO) -> int:
    config_id = await _configuration_id(client, args.application, args.configuration)
    page = await client.versions(config_id, limit=args.limit)
    for item in page.items:
        print(exactjson.dumps(item.model_dump(mode="json", exclude={"config"})), file=out)
    return 0


async def _diff(client: api.ConfigClient, args: argparse.Namespace, out: TextIO) -> int:
    config_id = await _configuration_id(client, args.application, args.configuration)
    found = await client.diff(config_id, args.old, args.new)
    print(exactjson.dumps(found.model_dump(mode="json", by_alias=True), indent=2), file=out)
    return 0


async def _rollback(client: api.ConfigClient, args: argparse.Namespace, out: TextIO) -> int:
    if (args.to_revision is None) == (args.version is None):
        raise ValueError("give CONFIGURATION VERSION, or --to-revision R (not both)")
    if args.empty_ok and args.to_revision is None:
        raise ValueError("--empty-ok goes with --to-revision R")
    application = await _application(client, args.application)
    done: Any
    if args.to_revision is not None:
        done = await client.rollback_application(
            application.id, args.to_revision, reason=args.reason, empty_ok=args.empty_ok
        )
    else:
        config_id = await _configuration_id(client, application.id, args.configuration)
        done = await client.rollback(config_id, args.version, reason=args.reason)
    print(exactjson.dumps(done.model_dump(), indent=2), file=out)
    return 0


_HISTORY = {"history": _history, "diff": _diff, "rollback": _rollback}


async def _configuration_id(client: api.ConfigClient, application: str, ref: str | None) -> str:
    """An id as given (it may name a deleted configuration), or the id of the named one."""
    if ref is None:
        raise ValueError("name the configuration")
    if watch.looks_like_id(ref):
        return ref
    app = await _application(client, application)
    found = await client.find_configuration(app.id, ref)
    if found is None:
        raise errors.NotFound(404, None, f"no configuration {ref!r}")
    return found.id


def _read_config(file: str | None, text: str | None) -> dict[str, Any]:
    if file is not None:
        text = sys.stdin.read() if file == "-" else Path(file).read_text()
    value = exactjson.loads(text or "")
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
