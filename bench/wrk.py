"""``wrk`` as the suite's load generator: a Lua script that POSTs one JSON body, and the
figures parsed from what ``wrk --latency`` prints.

wrk is written in C, so the load generator takes little of the CPU the server under test
shares with it, and each of its connections sends the next request as soon as the
previous one is answered (closed loop), as bench/http_client.py's clients do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

WRK = "wrk"
THREADS = 1
"""One wrk thread keeps up with thousands of requests per second and leaves the rest of
the machine's cores to the server and the database."""
TIMEOUT_S = 30
"""wrk's default (2 s) leaves slower answers out of the latency figures as timeouts."""
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def available() -> bool:
    return shutil.which(WRK) is not None


@dataclass(frozen=True)
class WrkRun:
    """One wrk run: every answer counts in requests and latency, whatever its status."""

    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    """wrk's "Non-2xx or 3xx responses" (it counts statuses from 400 up)."""
    socket_errors: int
    """Connect, read, write errors and timeouts."""

    @property
    def ok_per_s(self) -> float:
        """Answers other than errors per second: what a ratio between contenders compares."""
        if not self.requests:
            return 0.0
        return self.requests_per_s * (self.requests - self.non_2xx) / self.requests

    def figures(self) -> dict[str, float]:
        """The figures a workload records of a window: rate of 2xx, latency, errors."""
        return {
            "per_s": self.ok_per_s,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "non_2xx": float(self.non_2xx),
            "socket_errors": float(self.socket_errors),
        }

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "ok_per_s": self.ok_per_s}


def _lua_string(text: str) -> str:
    # A long bracket needs no escaping; JSON and tokens never contain "]==]".
    return f"[==[{text}]==]"


def write_script(path: Path, paths: list[str], body: str, headers: dict[str, str]) -> Path:
    """A script POSTing ``body`` with ``headers``, to ``paths`` in turn (one per request)."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body)}"]
    # The spaces inside the brackets: "[[" would start a long string.
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()]
    lines.append("local paths = {" + ", ".join(_lua_string(p) for p in paths) + "}")
    lines += [
        "local turn = 0",
        "request = function()",
        "  turn = turn % #paths + 1",
        "  return wrk.format(nil, paths[turn])",
        "end",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(base: str, script: Path, connections: int, seconds: int) -> WrkRun:
    """``wrk --latency`` against ``base`` for ``seconds`` with ``connections`` connections."""
    done = subprocess.run(
        [
            WRK,
            f"--threads={THREADS}",
            f"--connections={connections}",
            f"--duration={seconds}s",
            f"--timeout={TIMEOUT_S}s",
            f"--script={script}",
            "--latency",
            base,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=seconds + TIMEOUT_S + 30,
    )
    # A script that does not load is reported on stderr only: wrk then sends plain GETs.
    if done.returncode != 0 or done.stderr.strip():
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse(done.stdout)


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def _search(pattern: str, output: str) -> re.Match[str]:
    found = re.search(pattern, output, re.MULTILINE)
    if found is None:
        raise ValueError(f"no {pattern!r} in wrk's output:\n{output}")
    return found


def parse(output: str) -> WrkRun:
    """The figures of ``wrk --latency``'s report; absent error lines mean none."""
    latency = r"^\s+{}%\s+([\d.]+)(us|ms|s|m|h)\s*$"
    p50 = _search(latency.format(50), output)
    p99 = _search(latency.format(99), output)
    non_2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", output, re.MULTILINE)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkRun(
        requests=int(_search(r"^\s*(\d+) requests in ", output).group(1)),
        requests_per_s=float(_search(r"^Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )
