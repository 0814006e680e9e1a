"""Astrology: the birth chart, from the person's details to the drawing. No other feature's state.

    kundli.py           sidereal positions, ascendant and houses, nakshatras, the Vimshottari dasha
    birth_chart.py      a person's birth moment and place, consent to share, chart settings
    places.py           the offline gazetteer of birth places
    chart_drawing.py    where things go when a chart is drawn as SVG

Uses: nothing of the other features.
"""
