"""Messaging: what the two people of a consultation send each other.

    chat.py                 messages stored first, then announced; delivery and read receipts; presence
    message_text.py         what a message may say; contact details masked; display controls refused
    attachments.py          photos and PDFs sent like messages (_attachment_files.py decides what is
                            accepted; _photo_decoder.py decodes a photo in a bounded child process)
    attachment_storage.py   where the bytes live: a local folder or S3
    transcripts.py          a consultation's transcript as its participant downloads it

Uses: consultations (the session a message belongs to), users (time zones, login sessions),
notifications (rooms, the notifier).
"""
