# Shortcuts; each target installs what it needs (see deploy/dev/bootstrap.sh).
.PHONY: demo test lint

demo:
	bash deploy/dev/bootstrap.sh demo

test:
	bash deploy/dev/bootstrap.sh test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
