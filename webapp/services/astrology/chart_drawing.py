"""Where things go when a chart is drawn (templates/kundli/_chart.html draws it as inline SVG).

North Indian: twelve fixed houses in a square cut by its diagonals and the diamond of its side
midpoints, the first house the top diamond, counting counter-clockwise; each house carries the
number of the sign in it. South Indian: twelve fixed signs around a 4x4 square, Pisces top left,
running clockwise; the ascendant's sign is marked with a diagonal stroke. Without a birth time the
North Indian chart takes the Moon's sign as its first house (chandra lagna) and says so.
"""

from dataclasses import dataclass

from . import kundli

SIZE, MARGIN = 320, 10
ABBREVIATIONS = {
    "Sun": "Su", "Moon": "Mo", "Mars": "Ma", "Mercury": "Me", "Jupiter": "Ju",
    "Venus": "Ve", "Saturn": "Sa", "Rahu": "Ra", "Ketu": "Ke",
}  # fmt: skip

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
    return f"{ABBREVIATIONS[name]} {kundli.dms(position.degree)}{' R' if position.retrograde and name not in ('Rahu', 'Ketu') else ''}"


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
            lines.insert(0, f"Asc {kundli.dms(chart.ascendant % 30)}")
        cells.append(
            Cell(
                _points(outline),
                x,
                y,
                str(sign + 1),
                number_x,
                number_y,
                tuple(lines),
                label=f"House {house}, {kundli.SIGNS[sign][0]}",
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
            lines.insert(0, f"Asc {kundli.dms(chart.ascendant % 30)}")
        cells.append(
            Cell(
                _points(outline),
                left + CELL / 2,
                top + CELL / 2 + 4,
                kundli.SIGNS[sign][0][:3],
                left + 5,
                top + 12,
                tuple(lines),
                marked=sign == rising,
                label=kundli.SIGNS[sign][0],
            )
        )
    return cells


def cells(chart, style):
    return south(chart) if style == "south" else north(chart)
