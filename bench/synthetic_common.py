"""What the two synthetic-store generators share: the store's timestamp format and a weighted pick."""


def iso(t):
    """A datetime as gridrun's store writes it: RFC 3339, UTC, milliseconds."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def pick(rng, weighted):
    """One value of [(value, weight)], weights summing to 1."""
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]
