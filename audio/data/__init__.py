"""Fixed data shipped with the audio package (benchmark notices)."""
