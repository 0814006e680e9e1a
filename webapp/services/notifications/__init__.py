"""Notifications: how the platform reaches a person, live or later.

    notifier.py     how services announce what happened (after the commit), without knowing who listens
    rooms.py        Socket.IO room names, shared with webapp/realtime
    inbox.py        the notifications a person keeps, stored once and announced live
    push.py         Web Push to a browser whose tab is closed (a job channel)
    receipts.py     receipts by e-mail, asked for in the transaction they report (the "email" channel)
    mail.py         rendering and sending an e-mail over SMTP

Uses: jobs, users (time zones), money (amounts in receipts).
"""
