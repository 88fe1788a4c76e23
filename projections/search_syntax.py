"""What a search query says, read from what a person types, and said again to each backend.

The syntax (the same on both backends):

- ``payment failed``: documents with both words (AND);
- ``"connection pool exhausted"``: the words together, in this order (a phrase);
- ``pay*``: a word starting with ``pay`` (at least two characters before the ``*``);
- ``-staging`` or ``-"load test"``: without this word or phrase;
- ``timeout OR deadline``: either one (``OR`` in capitals; it binds tighter than AND).

Nothing a person types is an error of the full-text engines: quotes that are not
closed end at the end of the query, punctuation separates words as it does in the
documents, and user text reaches SQL only inside quoted strings (FTS5) or bound
parameters (PostgreSQL). Only a query with nothing left to look for is refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import reduce

from sqlalchemy import ColumnElement, bindparam, func, literal_column

from projections.search_index import CONFIGURATION, PUNCTUATION

MAX_LENGTH = 500
"""Characters a query may have."""
MAX_TERMS = 24
"""Words and phrases a query may have, excluded ones included."""
MIN_PREFIX = 2
"""Characters before a ``*``: a shorter prefix would match a good part of every index."""

_WORDS = re.compile(r"[^\W_]+")
"""A word as both indexes split text: letters and digits (underscores separate)."""
_PUNCTUATION = re.compile(PUNCTUATION)
_BARE = re.compile(r'[^\s"]+')
"""A term typed without quotes: up to the next space or quote."""


class QuerySyntaxError(ValueError):
    """A query that asks for nothing, or for too much: the API answers 422 naming ``q``."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase, as typed (quotes removed), and whether its last word is a prefix."""

    text: str
    prefix: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(_WORDS.findall(self.text))


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Every group must match (each group: any one of its terms); no excluded term may."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(term for group in self.groups for term in group)


def any_of(words: list[str]) -> SearchQuery:
    """Documents with at least one of ``words`` (for finding similar incidents)."""
    return SearchQuery(groups=(tuple(Term(word) for word in words),))


def _lex(text: str) -> list[tuple[str, Term | None, bool]]:
    """("term", term, excluded) and ("or", None, False) tokens, left to right."""
    tokens: list[tuple[str, Term | None, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        excluded = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if excluded:
            i += 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            raw, i = text[i + 1 : end], end + 1
            prefix = i < n and text[i] == "*"
            i += prefix
        else:
            match = _BARE.match(text, i)
            assert match is not None  # text[i] is neither a space nor a quote
            raw, i = match.group(), match.end()
            if raw == "OR" and not excluded:
                tokens.append(("or", None, False))
                continue
            prefix = raw.endswith("*")
            raw = raw.rstrip("*")
        tokens.append(("term", Term(raw, prefix), excluded))
    return tokens


def parse(text: str) -> SearchQuery:
    """The query ``text`` asks; QuerySyntaxError if it asks for nothing or too much."""
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise QuerySyntaxError("q must not be empty")
    if len(text) > MAX_LENGTH:
        raise QuerySyntaxError(f"q must have at most {MAX_LENGTH} characters")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    joining = False
    for kind, term, negated in _lex(text):
        if kind == "or":
            joining = bool(groups)
            continue
        assert term is not None
        if not term.words:  # nothing but punctuation: nothing either index could hold
            joining = False
            continue
        if term.prefix and len(term.words[-1]) < MIN_PREFIX:
            raise QuerySyntaxError(
                f"q: {term.text}* is too short a prefix; give at least {MIN_PREFIX}"
                " characters before *"
            )
        if negated:
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining = False
    if len(excluded) + sum(map(len, groups)) > MAX_TERMS:
        raise QuerySyntaxError(f"q must have at most {MAX_TERMS} words and phrases")
    if not groups:
        raise QuerySyntaxError(
            "q has no word to look for: give at least one word or phrase that is not excluded"
        )
    return SearchQuery(tuple(tuple(group) for group in groups), tuple(excluded))


# --- SQLite: an FTS5 query string -------------------------------------------------------


def _fts5_term(term: Term) -> str:
    if term.prefix:
        return '"' + " ".join(term.words) + '"*'
    # As typed, inside a string: FTS5 splits it into words as it split the documents.
    return '"' + term.text.replace('"', '""') + '"'


def fts5_query(query: SearchQuery) -> str:
    """The query in FTS5's syntax, every term a quoted string (never an FTS5 operator)."""
    groups = [
        _fts5_term(group[0]) if len(group) == 1 else "(" + " OR ".join(map(_fts5_term, group)) + ")"
        for group in query.groups
    ]
    required = " AND ".join(groups)
    if not query.excluded:
        return required
    return f"({required})" + "".join(f" NOT {_fts5_term(term)}" for term in query.excluded)


# --- PostgreSQL: a tsquery expression ---------------------------------------------------


def _config() -> ColumnElement[str]:
    return literal_column(f"'{CONFIGURATION}'::regconfig")


def _tsquery_term(term: Term) -> ColumnElement[str]:
    if term.prefix:
        # Words of letters and digits only: nothing in them is tsquery syntax.
        text = " <-> ".join(f"'{word}'" for word in term.words) + ":*"
        return func.to_tsquery(_config(), bindparam(None, text))
    # Quoted, the words are a phrase, as in FTS5; PostgreSQL's parser splits them as it
    # split the documents, punctuation read as spaces alike. websearch_to_tsquery accepts
    # any text without an error.
    text = _PUNCTUATION.sub(" ", term.text)
    return func.websearch_to_tsquery(_config(), bindparam(None, f'"{text}"'))


def tsquery(query: SearchQuery) -> ColumnElement[str]:
    """The query as a PostgreSQL tsquery expression, every text a bound parameter."""
    groups = [
        reduce(lambda a, b: a.op("||")(b), map(_tsquery_term, group)) for group in query.groups
    ]
    required = reduce(lambda a, b: a.op("&&")(b), groups)
    return reduce(
        lambda a, b: a.op("&&")(func.tsquery_not(b)),
        map(_tsquery_term, query.excluded),
        required,
    )
