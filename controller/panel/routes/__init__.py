"""One router per panel page; ``create_app`` includes every module exposing ``router``."""
