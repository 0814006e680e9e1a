"""The AI features (issue 29), on one language model.

    language_model.py   the model behind one small interface: OpenAI-compatible, daily token cap, calls logged
    safety.py           the safety review of astrologers' messages: rules, then the model as a job; flags
    summaries.py        the summary a user keeps of a consultation, written by a job
    matching.py         "describe your concern": fitting astrologers among those available, with why

Each job kind registers its channel with services/jobs.py where it is defined. Uses: jobs,
messaging (what was said), astrologers (who is available), admin (the flags' readers).
"""
