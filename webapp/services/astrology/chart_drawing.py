"""Where things go when a chart is drawn (templates/kundli/_chart.html draws it as inline SVG).

North Indian: twelve fixed houses in a square cut by its diagonals and the diamond of its side
midpoints, the first house the top diamond, counting counter-clockwise; each house carries the
number of the sign in it. South Indian: twelve fixed signs around a 4x4 square, Pisces top left,
running clockwise; the ascendant's sign is marked with a diagonal stroke. Without a birth time the
North Indian chart takes the Moon's sign as its first house (chandra lagna) and says so.
"""

from dataclasses import dataclass

from flask_babel import get_locale, gettext, pgettext

from . import kundli

SIZE, MARGIN = 320, 10
#: Each graha's two letters in a cell, in the reader's language (pgettext: "Ma" the planet, nothing else).
ABBREVIATIONS = {
    "Sun": lambda: pgettext("planet", "Su"), "Moon": lambda: pgettext("planet", "Mo"),
    "Mars": lambda: pgettext("planet", "Ma"), "Mercury": lambda: pgettext("planet", "Me"),
    "Jupiter": lambda: pgettext("planet", "Ju"), "Venus": lambda: pgettext("planet", "Ve"),
    "Saturn": lambda: pgettext("planet", "Sa"), "Rahu": lambda: pgettext("planet", "Ra"),
    "Ketu": lambda: pgettext("planet", "Ke"),
}  # fmt: skip


def _sign_in_cell(sign):
    """A South Indian cell's sign: English's three letters (Ari), a Hindi name whole (मेष is as short)."""
    name = kundli.sign_name(sign)
    return name[:3] if str(get_locale() or "en") == "en" else name


def _rising(degree):
    return pgettext("chart", "Asc %(degree)s", degree=kundli.dms(degree))


_A, _B, _C = MARGIN, SIZE / 2, SIZE - MARGIN  # the square's near edge, middle and far edge
_Q = (MARGIN + SIZE / 2) / 2  # where a diagonal meets the inner diamond, near corner side
_R = SIZE - _Q
TL, TR, BR, BL = (_A, _A), (_C, _A), (_C, _C), (_A, _C)
T, R, B, L, C = (_B, _A), (_C, _B), (_B, _C), (_A, _B), (_B, _B)
Q1, Q2, Q3, Q4 = (_Q, _Q), (_R, _Q), (_R, _R), (_Q, _R)
#: North Indian houses 1..12: (outline, the inner point the sign number sits toward).
NORTH = (
    ((T, Q2, C, Q1), C), ((TL, T, Q1), Q1), ((TL, Q1, L), Q1), ((L, Q1, C, Q4), C),
    ((L, Q4, BL), Q4), ((BL, Q4, B), Q4), ((B, Q4, C, Q3), C), ((B, Q3, BR), Q3),
    ((BR, Q3, R), Q3), ((R, Q3, C, Q2), C), ((R, Q2, TR), Q2), ((TR, Q2, T), Q2),
)  # fmt: skip
#: South Indian: sign index (0 Aries) -> (column, row) in the 4x4 grid.
SOUTH = {11: (0, 0), 0: (1, 0), 1: (2, 0), 2: (3, 0), 3: (3, 1), 4: (3, 2),
         5: (3, 3), 6: (2, 3), 7: (1, 3), 8: (0, 3), 9: (0, 2), 10: (0, 1)}  # fmt: skip
CELL = (SIZE - 2 * MARGIN) / 4


@dataclass(frozen=True)
class Cell:
    points: str  # an SVG polygon's points
    x: float  # where its lines are centred
    y: float
    number: str  # the sign number (North) or the sign's short name (South)
    number_x: float
    number_y: float
    lines: tuple  # "Su 14°05′", "Sa 02°11′ R", ...
    marked: bool = False  # the ascendant's sign (South)
    label: str = ""  # for the screen reader's title of the cell


def planet_line(name, position):
    retrograde = f" {pgettext('chart', 'R')}" if position.retrograde and name not in kundli.NODE_NAMES else ""
    return f"{ABBREVIATIONS[name]()} {kundli.dms(position.degree)}{retrograde}"


def _points(outline):
    return " ".join(f"{x:g},{y:g}" for x, y in outline)


def _centroid(points):
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _toward(a, b, share):
    return a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share


def first_house_sign(chart):
    """The sign of the first house: the ascendant's, or the Moon's without a birth time."""
    return kundli.sign_of(chart.ascendant) if chart.ascendant is not None else chart.moon_sign


def north(chart):
    first = first_house_sign(chart)
    cells = []
    for house, (outline, inner) in enumerate(NORTH, start=1):
        sign = (first + house - 1) % 12
        x, y = _centroid(outline)
        number_x, number_y = _toward((x, y), inner, 0.62)
        lines = [planet_line(name, p) for name, p in chart.planets.items() if p.sign == sign]
        if house == 1 and chart.ascendant is not None:
            lines.insert(0, _rising(chart.ascendant % 30))
        cells.append(
            Cell(
                _points(outline),
                x,
                y,
                str(sign + 1),
                number_x,
                number_y,
                tuple(lines),
                label=gettext("House %(house)s, %(sign)s", house=house, sign=kundli.sign_name(sign)),
            )
        )
    return cells


def south(chart):
    rising = kundli.sign_of(chart.ascendant) if chart.ascendant is not None else None
    cells = []
    for sign, (column, row) in SOUTH.items():
        left, top = MARGIN + column * CELL, MARGIN + row * CELL
        outline = ((left, top), (left + CELL, top), (left + CELL, top + CELL), (left, top + CELL))
        lines = [planet_line(name, p) for name, p in chart.planets.items() if p.sign == sign]
        if sign == rising:
            lines.insert(0, _rising(chart.ascendant % 30))
        cells.append(
            Cell(
                _points(outline),
                left + CELL / 2,
                top + CELL / 2 + 4,
                _sign_in_cell(sign),
                left + 5,
                top + 12,
                tuple(lines),
                marked=sign == rising,
                label=kundli.sign_name(sign),
            )
        )
    return cells


def cells(chart, style):
    return south(chart) if style == "south" else north(chart)
