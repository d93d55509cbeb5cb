"""Driving wrk: a Lua script made from a scenario, and its result as one JSON line.

The script picks a random seeded id per request (from ``configs.tsv`` / ``apps.txt`` in the
working directory) and fills body templates exactly as ``bench.loadgen`` does. ``done()``
prints p50/p99 from wrk's own latency histogram, which is why no ``--latency`` parsing is needed.
"""

from __future__ import annotations

import math
from pathlib import Path

from bench import scenarios

PRELUDE = r"""
local configs, apps = {}, {}
local seq, tid, token = 0, 0, ""
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  for line in io.lines("configs.tsv") do
    local id, name, app = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
    table.insert(configs, {id = id, name = name, app = app})
  end
  for line in io.lines("apps.txt") do table.insert(apps, line) end
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  token = string.format("%x%x", os.time(), math.random(1, 1000000000))
  wrk.headers["Content-Type"] = "application/json"
  local bearer = os.getenv("BENCH_TOKEN")
  if bearer then wrk.headers["Authorization"] = "Bearer " .. bearer end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%f,"p50_ms":%f,"p99_ms":%f,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _lua_string(text: str) -> str:
    return f"[==[{text}]==]"


def _body_expr(template: scenarios.Template) -> str:
    holes = {
        "NAME": "c.name",
        "SEQ": "tostring(seq)",
        "APP": "apps[math.random(#apps)]",
        "UNIQUE": 'string.format("bench-%s-%d-%d", token, tid, seq)',
    }
    pieces = [holes[p] if i % 2 else _lua_string(p) for i, p in enumerate(template.parts)]
    return " .. ".join(pieces)


def script(scenario: scenarios.Scenario) -> str:
    path = scenario.path.replace("{config}", '" .. c.id .. "').replace(
        "{app}", '" .. apps[math.random(#apps)] .. "'
    )
    body = _body_expr(scenario.body) if scenario.body else "nil"
    return PRELUDE + (
        "function request()\n"
        "  seq = seq + 1\n"
        "  local c = configs[math.random(#configs)]\n"
        f'  return wrk.format("{scenario.method}", "{path}", nil, {body})\n'
        "end\n"
    )


def argv(
    scenario: scenarios.Scenario,
    base_url: str,
    data_dir: Path,
    duration_s: float,
    connections: int,
    threads: int,
) -> list[str]:
    lua = data_dir / f"{scenario.name}.lua"
    lua.write_text(script(scenario))
    return [
        "wrk", "-t", str(max(1, threads)), "-c", str(connections),
        "-d", f"{max(1, math.ceil(duration_s))}s", "--timeout", "10s",
        "-s", str(lua), base_url,
    ]  # fmt: skip
