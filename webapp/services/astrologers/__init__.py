"""Astrologers as users find them and as they run their day.

    marketplace.py          who is listed, search and filters, derived availability
    astrologer_profile.py   availability per channel, rates, capacity, expertise
    performance.py          activity and figures: last active, the month's sessions and rating
    follows.py              following an astrologer; "notify me when online"

Uses: notifications (announcing availability), locks.
"""
