"""Peak resident memory of this process since it started its own program, and of its children."""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path


def peak_rss_mib() -> float:
    """VmHWM where /proc has it; ``ru_maxrss`` otherwise.

    On Linux ``ru_maxrss`` survives ``exec``: a child started by a big parent would
    report the parent's peak. VmHWM belongs to the new program's memory alone.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+), so the next peak is one run's own."""
    # Without /proc, or where writing it is refused, the peak spans the earlier runs too.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def children_peak_rss_mib() -> float:
    """The largest peak of this process's finished children (a rebuild's worker processes).

    ``ru_maxrss`` of the children: it spans every child so far, not one run's, and a
    child's figure includes what it inherited before ``exec`` (an upper bound).
    """
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
