"""The use cases. No request objects, no rendering: ids, amounts and `now` in;
models out, or a domain error from errors.py. Functions flush; the caller commits."""
