"""One rule for token and integration names: 1 to 100 characters, no space, no control."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.credential_names import PATTERN, InvalidName, check_name, name_problem

ACCEPTED = ["ci-bot", "team/prod", "integration:legacy", "zoë", "a", "x" * 100, "🚒-rota"]
REFUSED = {
    "empty": "",
    "a space": "ci bot",
    "leading space": " ci-bot",
    "trailing space": "ci-bot ",
    "a tab": "ci\tbot",
    "a newline": "ci\nbot",
    "NUL": "ci\x00bot",
    "escape": "ci\x1b[31mbot",
    "DEL": "ci\x7fbot",
    "C1 control": "ci\x85bot",
    "no-break space": "ci\u00a0bot",
    "zero-width space": "ci\u200bbot",
    "right-to-left override": "ci\u202ebot",
    "line separator": "ci\u2028bot",
    "byte order mark": "\ufeffci-bot",
    "101 characters": "x" * 101,
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_printable_names_of_up_to_100_characters_are_accepted(name: str) -> None:
    assert name_problem(name) is None
    assert check_name(name, "token") == name
    assert re.fullmatch(PATTERN, name)


@pytest.mark.parametrize("name", list(REFUSED.values()), ids=list(REFUSED))
def test_names_with_spaces_controls_or_too_many_characters_are_refused(name: str) -> None:
    with pytest.raises(InvalidName, match=r"^token name .* refused: "):
        check_name(name, "token")
    assert not re.fullmatch(PATTERN, name)


def test_the_refusal_says_which_character_and_where() -> None:
    assert name_problem("ci bot") == (
        "a space at character 3: a name has 1 to 100 characters without spaces or control"
        " characters"
    )
    assert "U+001B at character 3" in str(name_problem("ab\x1bc"))
    assert name_problem("x" * 101) == "a name has at most 100 characters, not 101"
    assert str(name_problem("")).startswith("a name cannot be empty")


@given(st.text(max_size=120))
def test_the_published_pattern_is_the_rule_the_service_applies(name: str) -> None:
    assert (name_problem(name) is None) == bool(re.fullmatch(PATTERN, name))
