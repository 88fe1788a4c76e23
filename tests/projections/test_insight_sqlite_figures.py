"""SQLite's figures are selected from each group's text of values: the same nearest ranks and
exact sums as sorting every value would give, however large the values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from projections.insight_figures import Figure, figure_of
from projections.insight_sqlite import sqlite_groups

MICROSECONDS = st.integers(min_value=0, max_value=2**62)


def _group_figure(values: list[int]) -> Figure:
    texts = [",".join(map(str, values))] * 5
    (group,) = sqlite_groups([("2025-01", [len(values), 0, *texts])])
    return group.figures["time_to_resolve"]


@given(st.lists(MICROSECONDS, min_size=1, max_size=300))
def test_selected_ranks_and_sum_equal_those_of_the_sorted_values(values: list[int]) -> None:
    expected = figure_of(sum(values), sorted(values))
    assert _group_figure(values) == expected


def test_a_sum_past_64_bits_stays_exact() -> None:
    values = [2**62 + 1, 2**62 + 3, 2**62 + 5]  # their sum needs 64 bits and more
    figure = _group_figure(values)
    assert figure == figure_of(sum(values), sorted(values))
    assert figure.mean == (3 * 2**62 + 9) / 3_000_000
