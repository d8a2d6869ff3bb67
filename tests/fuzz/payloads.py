"""Hostile payload strategies shared by the MQTT fuzz tests.

Each strategy mixes pure noise with *near misses*: valid messages with one field given the
wrong type, an out-of-range number, a huge string, a NUL byte or a lone surrogate, because
those are the ones that slip past a parser and break the next layer (the database).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

INT64_MAX = 2**63 - 1

weird_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=INT64_MAX - 2, max_value=2**80),
    st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.just("\x00"),
    st.just("a\x00b"),
    st.just("x" * 70_000),
    st.just("2026-13-45T99:99:99Z"),
    st.just("2026-03-01T05:00:00"),  # naive: no offset
    st.just("9999-12-31T23:59:59+00:00"),
    st.just("0001-01-01T00:00:00+00:00"),
)
json_values = st.recursive(
    weird_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def dumps(obj: Any) -> bytes:
    """JSON as a careless or hostile sender writes it (NaN/Infinity allowed, raw unicode)."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def mutated(base: dict[str, Any], fields: list[str]) -> st.SearchStrategy[bytes]:
    """``base`` with one to three fields replaced, removed, or extra ones added."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        obj = json.loads(json.dumps(base))
        for _ in range(draw(st.integers(1, 3))):
            field = draw(st.sampled_from([*fields, "extra_field"]))
            if draw(st.booleans()) and field in obj:
                del obj[field]
            else:
                obj[field] = draw(json_values)
        return dumps(obj)

    return build()


raw_noise = st.one_of(
    st.binary(max_size=512),
    st.binary(min_size=1, max_size=64).map(lambda b: b"\xff\xfe" + b),  # invalid UTF-8
    st.just(b"{" * 5000 + b"}" * 5000),  # nesting bomb
    st.just(b"[" * 100_000),
    st.integers(64 * 1024, 600 * 1024).map(lambda n: b'{"a":"' + b"x" * n + b'"}'),  # huge
    json_values.map(dumps),
)
