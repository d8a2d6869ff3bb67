"""Random ``visual`` bodies: parsing and resolving either refuse with a reason or give a block
that is valid on the wire; never another exception."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from controller.db.models import Base
from controller.services import visual
from protocol.models import Visual

_ENGINE = create_engine("sqlite://")
Base.metadata.create_all(_ENGINE)

_json = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
_slide = st.fixed_dictionaries(
    {"image_sha256": st.sampled_from(["a" * 64, "zz", ""]) | st.text(max_size=70)},
    optional={"duration_s": st.floats() | st.integers() | st.text(max_size=5)},
)
_bodies = _json | st.fixed_dictionaries(
    {},
    optional={
        "text": st.none() | st.text(max_size=2100),
        "ticker": st.none() | st.text(max_size=600),
        "slides": st.lists(_slide | _json, max_size=3),
    },
)


@settings(max_examples=300, deadline=None)
@given(body=_bodies, default=st.text(max_size=3000))
def test_visual_bodies_never_crash(body: Any, default: str) -> None:
    try:
        parsed = visual.VisualIn.model_validate(body)
    except ValidationError:
        return
    with Session(_ENGINE) as session:
        try:
            board = visual.resolve_visual(session, parsed, default)
        except visual.ImageRejected as exc:
            assert "slides[" in str(exc)
            return
    assert Visual.model_validate(board).slides == []
