"""The listing's query string, parsed leniently: a bad value falls back to its default, never a 500."""

from decimal import Decimal, InvalidOperation

from ...services.astrologers.marketplace import LANGUAGES, SORTS, SPECIALIZATIONS, ListingQuery

MAX_PRICE = Decimal("100000")


def _decimal(raw, low, high):
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or not low <= value <= high:
        return None
    return value.quantize(Decimal("0.01"))


def _page(raw):
    try:
        return max(int(raw), 1)
    except (TypeError, ValueError):
        return 1


def listing_query(args):
    """A ListingQuery from request.args; unknown choices and malformed numbers are ignored."""
    min_price = _decimal(args.get("min_price"), Decimal("0"), MAX_PRICE)
    max_price = _decimal(args.get("max_price"), Decimal("0"), MAX_PRICE)
    if min_price is not None and max_price is not None and min_price > max_price:
        min_price, max_price = max_price, min_price
    specialization = args.get("specialization")
    language = args.get("language")
    sort = args.get("sort")
    return ListingQuery(
        q=(args.get("q") or "").strip()[:100],
        specialization=specialization if specialization in SPECIALIZATIONS else None,
        language=language if language in LANGUAGES else None,
        min_price=min_price,
        max_price=max_price,
        min_rating=_decimal(args.get("min_rating"), Decimal("0"), Decimal("5")),
        available=args.get("available") == "1",
        sort=sort if sort in SORTS else "recommended",
        page=_page(args.get("page")),
    )
