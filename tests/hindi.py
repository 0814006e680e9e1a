"""What a Hindi page may still show in Latin letters (issue 41): names and codes, nothing else."""

import re
from html import unescape

#: What may stay in Latin letters on a Hindi page: names and codes. A run of three or more ASCII
#: words left anywhere else is an English sentence nobody translated.
HINDI_ALLOWED = re.compile(
    r"AstroConsult|Person \d+|[\w.+-]+@[\w.-]+|https?://\S+|Asia/\w+|[A-Z][a-z]+/[A-Z]\w+|flask ledger verify"
    r"|GeoNames|CC BY 4\.0|JOB_BACKOFF_SECONDS|order_\w+|pay_\w+|\b[CSI]?GST(?:IN)?\b"
)
ENGLISH_RUN = re.compile(r"\b[A-Za-z][A-Za-z'’]*(?:[ ,;:]+[A-Za-z][A-Za-z'’]*){2,}")


def english_left(html):
    """Runs of three or more ASCII words in what a person reads on the page (text and the attributes
    people read), after the allowed names and codes are taken out."""
    html = re.sub(r"<(script|style|template|code)\b.*?</\1>", " ", html, flags=re.S)
    # The time zone list is IANA identifiers (Asia/Kolkata, America/Port_of_Spain): codes, not prose.
    html = re.sub(r'<select[^>]*name="time_zone".*?</select>', " ", html, flags=re.S)
    readable = re.findall(r'(?:aria-label|title|placeholder|alt|hx-confirm)="([^"]*)"', html)
    text = re.sub(r"<[^>]+>", " ", html)
    found = []
    for part in [text, *readable]:
        part = HINDI_ALLOWED.sub(" ", unescape(part))
        found += [match.group(0) for match in ENGLISH_RUN.finditer(part)]
    return found
