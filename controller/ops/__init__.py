"""Operations: health, metrics, request ids and logs, backup and restore, installation."""
