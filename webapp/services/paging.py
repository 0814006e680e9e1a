"""Paging, in one place: `page_of` runs a query for one page and says whether another follows.

Page numbers are bounded once: a page beyond MAX_PAGE is the last one anyone reads, and an offset
computed from it stays within what every database's integers hold (a page of 10**19 once made
PostgreSQL refuse the OFFSET: bigint out of range). A page asks for one row more than it shows,
so `has_more` costs no COUNT.
"""

from dataclasses import dataclass, replace

from ..extensions import db

MAX_PAGE = 10_000


def clamp_page(page):
    """`page` as a whole number from 1 to MAX_PAGE (anything else: 1)."""
    if isinstance(page, bool) or not isinstance(page, int):
        return 1
    return min(max(page, 1), MAX_PAGE)


def offset(page, per_page):
    """The OFFSET of page `page` (clamped) of `per_page` rows."""
    return (clamp_page(page) - 1) * per_page


@dataclass(frozen=True)
class Page:
    """One page: its `items` (at most per_page), its number, and whether a next page exists."""

    items: list
    page: int
    has_more: bool

    def map(self, make):
        """The same page with make(item) for each item (rows into what a template shows)."""
        return replace(self, items=[make(item) for item in self.items])


def page_of(query, page, per_page, *, scalars=False):
    """Page `page` (clamped) of `query`, which must be ordered; scalars: items are the first
    column's values (ORM objects) rather than rows."""
    page = clamp_page(page)
    result = db.session.execute(query.limit(per_page + 1).offset(offset(page, per_page)))
    rows = (result.scalars() if scalars else result).all()
    return Page(items=rows[:per_page], page=page, has_more=len(rows) > per_page)
