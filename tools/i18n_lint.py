"""The translation checks of `make lint` (issue 41).

1. Every sentence a person reads in a template is marked for translation: text between tags and
   the attributes people read (title, alt, placeholder, aria-label, hx-confirm, a button's value)
   may hold only Jinja expressions, punctuation, numbers and the allowed words below; everything
   else must be inside `_()` / `ngettext()` or a `{% trans %}` block.
2. Every catalog under webapp/translations/ has every message of the code (extracted afresh with
   pybabel into a temporary template), none untranslated, none fuzzy, none left over.

Run: python -m tools.i18n_lint            (both checks; exit status 1 and a list when any fails)
"""

import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po
from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "webapp" / "templates"
TRANSLATIONS = ROOT / "webapp" / "translations"

#: Words that read the same in every language of the product: names (the brand, a data source and
#: its licence), codes and units.
ALLOWED = {
    "AstroConsult",
    "GeoNames",
    "CC",
    "BY",
    "UPI",
    "CSV",
    "PDF",
    "JSON",
    "IST",
    "UTC",
    "AI",
    "ID",
    "IFSC",
    "PAN",
    "OK",
}
#: Attributes a person reads (or hears from a screen reader).
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "hx-confirm", "aria-description"}
#: Elements whose text is code, not prose.
SKIPPED_ELEMENTS = {"script", "style", "code"}
MARK = "\x00"
WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")
#: A CSS class list written by a block (`{% block body_class %}room-page{% endblock %}`): not prose.
IDENTIFIER = re.compile(r"^[a-z]+(?:-[a-z]+)+$")


GETTEXT = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
#: A string literal in an expression that reads as a sentence or a label ("To decide", "No flags
#: match."): it starts with a capitalised word. Not a value ("open", "chat"), a class list or a
#: format ("%d %b %Y").
PROSE_LITERAL = re.compile(r"^[A-Z](?:[a-z]|(?=[\s.,:!?]))")


def flatten(source, environment):
    """The template's HTML with every Jinja expression, statement and trans block replaced by MARK,
    so the HTML parser sees the markup as the browser would (values unknown); and the string
    literals of its expressions that read as prose but are not an argument of a gettext call."""
    out, literals, depth_trans, in_tag, previous = [], [], 0, False, []
    for line, kind, value in environment.lex(source):
        if kind in ("whitespace", "comment_begin", "comment", "comment_end"):
            continue
        if kind == "string":
            value = value[1:-1]  # the lexer keeps the quotes
        if kind == "string" and PROSE_LITERAL.match(value) and value not in ALLOWED and "%" not in value:
            marked = previous[-2:] in ([("name", g), ("operator", "(")] for g in GETTEXT) or (
                previous[-1:] == [("operator", ",")] and previous[-2:-1] and previous[-2][0] == "string"
            )
            if not marked:
                literals.append((line, value))
        previous = (previous + [(kind, value)])[-3:]
        if kind == "block_begin":
            in_tag, words = True, []
            continue
        if in_tag:
            if kind == "name" and not words:
                words.append(value)
                if value == "trans":
                    depth_trans += 1
                elif value == "endtrans":
                    depth_trans -= 1
            if kind == "block_end":
                in_tag = False
            continue
        if kind == "data" and not depth_trans:
            out.append(value)
        elif kind in ("variable_begin", "data"):
            out.append(MARK)
    return "".join(out), literals


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.skipping = [], 0

    def _check(self, text, where):
        prose = " ".join(part for part in text.replace(MARK, " ").split() if not IDENTIFIER.match(part))
        words = [word for word in WORD.findall(prose) if word not in ALLOWED]
        if words:
            self.found.append((self.getpos()[0], where, " ".join(text.replace(MARK, "…").split())))

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self.skipping += 1
        attributes = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                tag == "input" and name == "value" and attributes.get("type") in ("submit", "button", "reset")
            )
            if readable and value:
                self._check(value, f"<{tag} {name}>")

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self._check(data, "text")


def unmarked_template_strings():
    environment = Environment(extensions=["jinja2.ext.i18n"])
    found = []
    for path in sorted([*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")]):
        html, literals = flatten(path.read_text(), environment)
        reader = _Reader()
        reader.feed(html)
        reader.close()
        where = path.relative_to(ROOT)
        found += [f"{where}:{line}: {kind}: {text}" for line, kind, text in reader.found]
        found += [f"{where}:{line}: string in an expression: {text!r}" for line, text in literals]
    return found


def catalog_problems():
    """Catalogs that miss, leave untranslated, mark fuzzy or keep an obsolete message."""
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        template = Path(scratch) / "messages.pot"
        subprocess.run(
            [str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg", "-k", "_l",
             "-k", "lazy_ngettext:1,2", "-k", "NN_:1,2", "-k", "t", "-k", "pgettext:1c,2",
             "-o", str(template), "webapp"],
            cwd=ROOT, check=True,
        )  # fmt: skip
        with template.open("rb") as handle:
            wanted = {message.id for message in read_po(handle) if message.id}
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        where = po.relative_to(ROOT)
        with po.open("rb") as handle:
            catalog = read_po(handle)
        have = {message.id: message for message in catalog if message.id}
        for msgid in sorted(wanted - have.keys(), key=str):
            problems.append(f"{where}: missing: {msgid!r}")
        for msgid, message in have.items():
            if msgid not in wanted:
                problems.append(f"{where}: no longer in the code: {msgid!r}")
            elif message.fuzzy:
                problems.append(f"{where}: fuzzy: {msgid!r}")
            elif not all(message.string) if isinstance(message.string, tuple) else not message.string:
                problems.append(f"{where}: untranslated: {msgid!r}")
    return problems


def main():
    problems = unmarked_template_strings()
    if problems:
        print("Template text not marked for translation (wrap it in _() or {% trans %}):")
        print("\n".join(problems))
    catalog = catalog_problems()
    if catalog:
        print("Translation catalogs out of step with the code (make translations-update, then translate):")
        print("\n".join(catalog))
    return 1 if problems or catalog else 0


if __name__ == "__main__":
    sys.exit(main())
