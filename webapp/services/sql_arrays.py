"""PostgreSQL array parameters for the set-based statements (the batch charge and its locks)."""


def array_literal(values):
    """A PostgreSQL array literal of `values` as one text parameter, for CAST(:name AS type[]).

    psycopg2 sends a Python list as ARRAY[...], an expression per element that the server must
    parse and plan; at thousands of elements the literal is parsed several times faster.
    """
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
