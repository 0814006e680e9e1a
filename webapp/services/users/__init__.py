"""Users: the people of the platform and how they get in.

    accounts.py         creating users of every role with what they own; logging in
    passwords.py        Argon2id hashing, off the event loop
    login_sessions.py   a row per sign-in, so signing out ends it on the server
    account_status.py   an account suspended, reinstated or deleted, and what follows from it
    handoff.py          the main backend's one-time hand-off token
    user_sync.py        users pushed in by the main backend (_sync_records.py checks each record)
    onboarding.py       the first-run panel, until the user says they are done
    time_zones.py       the zone a person reads times in

Uses: wallet (a new account's wallets), astrologers (a new astrologer's listing), astrology (birth
details), consultations and messaging (what an account's suspension ends), notifications.
"""
