"""Text and JSON that come from outside (a provider's webhook, the main backend, a chat client),
bounded before anything uses them: every database must be able to store the text (PostgreSQL
refuses NUL, no driver encodes a lone surrogate), and JSON may nest only so deep (a body nested
5,000 deep once ran the decoder out of stack: RecursionError, a 500)."""

import json

MAX_DEPTH = 32


def storable_text(text):
    """Whether every database takes `text`."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(value):
    """Whether `value` (JSON-decoded, any depth) holds only storable text, keys included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not storable_text(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def depth(value):
    """How deep `value` nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            stack.extend((child, level) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(body, max_depth=MAX_DEPTH):
    """json.loads(body), refusing (ValueError) what is not JSON or nests deeper than `max_depth`."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None
    if depth(value) > max_depth:
        raise ValueError("the JSON nests too deeply")
    return value
