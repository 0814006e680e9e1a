"""Admin money actions ask first: a refund, a payout approved, rejected or marked paid, and a suspension
(which ends the person's open sessions) do nothing until the admin has seen who and how much and
confirmed. The form posts as it always did; without `confirmed=yes` the answer is the question (a page
that re-posts the same fields with it), and static/js/ask_first.js shows that question in a native
<dialog> instead of a new page (it asks with the header X-Ask-First and gets the dialog's content)."""

from flask import render_template, request

CONFIRMED = "confirmed"


def ask_first(question, facts, confirm_label, back):
    """None once the admin has confirmed; else the question: `facts` as (label, value) pairs, the button
    `confirm_label`, and `back` where Cancel leads."""
    if request.form.get(CONFIRMED) == "yes":
        return None
    fields = [(name, value) for name, value in request.form.items(multi=True) if name not in ("csrf_token", CONFIRMED)]
    template = "admin/_ask_first.html" if request.headers.get("X-Ask-First") else "admin/ask_first.html"
    return render_template(
        template, question=question, facts=facts, confirm_label=confirm_label, action=request.path, fields=fields,
        back=back,
    )  # fmt: skip
