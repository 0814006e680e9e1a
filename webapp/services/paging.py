"""Page numbers, bounded once: a page beyond MAX_PAGE is the last one anyone reads, and an offset
computed from it stays within what every database's integers hold (a page of 10**19 once made
PostgreSQL refuse the OFFSET: bigint out of range)."""

MAX_PAGE = 10_000


def clamp_page(page):
    """`page` as a whole number from 1 to MAX_PAGE (anything else: 1)."""
    if isinstance(page, bool) or not isinstance(page, int):
        return 1
    return min(max(page, 1), MAX_PAGE)


def offset(page, per_page):
    """The OFFSET of page `page` (clamped) of `per_page` rows."""
    return (clamp_page(page) - 1) * per_page
