"""Every text colour the stylesheets set is readable: at least 4.5:1 (WCAG 2 AA for normal
text) against the background it is drawn on, in the light and in the dark scheme.

The colours are read from the served stylesheets themselves: the custom properties of
``:root`` (those inside ``@media (prefers-color-scheme: dark)`` override them in the dark
scheme), then each rule's ``color`` (and ``fill`` of SVG text, a rule with a font size).
A rule that sets its own background is checked against it; any other against both the
page (``--bg``) and the cards (``--card``), or against white for the print rules
(``print.css`` and ``@media print``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from web.templating import STATIC

AA = 4.5
_DARK = "@media (prefers-color-scheme: dark)"
_PRINT = "@media print"
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_VAR = re.compile(r"var\((--[\w-]+)\)")
_SCREEN = ("var(--bg)", "var(--card)")

Rules = list[tuple[str, dict[str, str]]]


@dataclass(frozen=True, slots=True)
class Pair:
    scheme: str
    selector: str
    text: str
    background: str

    @property
    def ratio(self) -> float:
        return contrast(self.text, self.background)


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG 2's contrast ratio of two ``#rrggbb`` colours, from 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _blocks(css: str, media: str) -> tuple[str, str]:
    """The stylesheet without its ``media`` blocks, and those blocks' contents."""
    outside, inside, rest = [], [], css
    while (start := rest.find(media)) != -1:
        opening = rest.index("{", start)
        depth, end = 0, opening
        for end in range(opening, len(rest)):
            depth += {"{": 1, "}": -1}.get(rest[end], 0)
            if depth == 0:
                break
        outside.append(rest[:start])
        inside.append(rest[opening + 1 : end])
        rest = rest[end + 1 :]
    outside.append(rest)
    return "".join(outside), "".join(inside)


def _rules(css: str) -> Rules:
    """Each rule's selector and declarations (an @media block's rules as rules of their own)."""
    found = []
    for selector, body in _RULE.findall(css):
        declarations = {}
        for declaration in body.split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                declarations[name.strip()] = value.strip()
        found.append((selector.split("{")[-1].strip(), declarations))
    return found


def schemes(static: Path = STATIC) -> dict[str, tuple[Rules, Rules, tuple[str, ...]]]:
    """Per scheme: the rules its colours come from, the rules it checks, and the backgrounds
    a rule without its own is drawn on."""
    screen, dark, printed = [], [], []
    for path in sorted(static.glob("*.css")):
        css, darker = _blocks(_COMMENT.sub("", path.read_text()), _DARK)
        css, for_print = _blocks(css, _PRINT)
        (printed if path.name == "print.css" else screen).append(css)
        dark.append(darker)
        printed.append(for_print)
    light, darkened = _rules("".join(screen)), _rules("".join(screen + dark))
    return {
        "light": (light, light, _SCREEN),
        "dark": (darkened, darkened, _SCREEN),
        "print": (light, _rules("".join(printed)), ("#ffffff",)),
    }


def _palette(rules: Rules) -> dict[str, str]:
    palette: dict[str, str] = {}
    for selector, declarations in rules:
        if selector == ":root":
            palette.update({k: v for k, v in declarations.items() if k.startswith("--")})
    return palette


def _colour(value: str | None, palette: dict[str, str]) -> str | None:
    """A declaration's colour as ``#rrggbb``; None for inherit, currentColor, a mix..."""
    if value is None:
        return None
    found = _VAR.fullmatch(value)
    if found:
        return _colour(palette.get(found.group(1)), palette)
    return value if _HEX.fullmatch(value) else None


def text_pairs(static: Path = STATIC) -> list[Pair]:
    """Every text colour set by a rule, with each background it is drawn on."""
    pairs = []
    for scheme, (source, checked, page) in schemes(static).items():
        palette = _palette(source)
        for selector, declarations in checked:
            if selector == ":root":
                continue
            fill = declarations.get("fill") if "font-size" in declarations else None
            text = _colour(declarations.get("color") or fill, palette)
            own = declarations.get("background-color") or declarations.get("background")
            behind = [own] if own not in (None, "none", "transparent") else page
            for background in (_colour(b, palette) for b in behind if b is not None):
                if text is not None and background is not None:
                    pairs.append(Pair(scheme, selector, text, background))
    return pairs


def test_the_palette_is_read_from_the_stylesheets() -> None:
    pairs = text_pairs()
    for scheme in ("light", "dark"):
        for n in range(1, 6):
            selector = f".severity-sev{n}"
            assert any(p.scheme == scheme and p.selector == selector for p in pairs), selector
    assert any(p.selector == ".hit-snippet mark" for p in pairs)
    assert any(p.scheme == "print" and p.selector == ".badge" for p in pairs)
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_every_text_colour_has_at_least_aa_contrast() -> None:
    weak = [
        f"{p.scheme} {p.selector}: {p.text} on {p.background} is {p.ratio:.2f}:1"
        for p in text_pairs()
        if p.ratio < AA
    ]
    assert not weak, "\n".join(weak)
