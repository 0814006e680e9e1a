"""Consultations: a user's request to an astrologer, through its session, to its end and ratings.

lifecycle.py  the state machine and its use cases: request, accept, decline, cancel, withdraw,
              expire, end
queue.py      an astrologer's offered requests, the queue behind them, positions and wait estimates
end_rules.py  the ends nobody clicks: no reply, a participant gone, a minute billing cannot charge
records.py    the figures and facts each event writes (session_metadata, counters, presence)
lookup.py     reading sessions: a participant's session, an open session, a person's history
ratings.py    the user's rating of the astrologer, the astrologer's private rating of the user
caps.py       the user's spending cap (minutes or money): the quote, changing it, the last-minute warning
calls.py      what a WebRTC signal between the two participants of a call or video session may carry
"""
