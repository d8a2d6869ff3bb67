"""One router per resource; every module here exposing ``router`` is included by create_app."""
