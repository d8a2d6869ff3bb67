"""Language codes and the entry ids of multilingual bulletins (pure helpers)."""

from __future__ import annotations

import pytest

from controller.services.multilingual import LanguageError, checked_languages, entry_languages
from controller.services.reports.plan import item_languages, occurrence_key


def test_entry_ids_name_the_announcement_and_its_languages() -> None:
    assert entry_languages("ann-7") == (7, ())
    assert entry_languages("ann-7-vi-tay") == (7, ("vi", "tay"))
    assert entry_languages("ann-12-vi-hmn-dao") == (12, ("vi", "hmn", "dao"))
    assert entry_languages("ban-tin-sang") is None
    assert entry_languages("ann-x") is None
    assert entry_languages("ann-7-2") is None


def test_language_lists_are_checked() -> None:
    assert checked_languages(["vi", "tay"]) == ["vi", "tay"]
    assert checked_languages(["tay", "vi"]) == ["tay", "vi"]  # order is the zone's choice
    for bad in (["vi", "xx"], ["vi", "vi"], []):
        with pytest.raises(LanguageError):
            checked_languages(bad)


def test_a_multilingual_airing_is_the_announcements_occurrence() -> None:
    assert occurrence_key("ann-7-vi-tay@20261201T000000Z#0+1500ms") == "ann-7@20261201T000000Z"
    assert occurrence_key("ann-7@20261201T000000Z#0") == "ann-7@20261201T000000Z"
    assert occurrence_key("ban-tin-sang@20261201T000000Z#0") == "ban-tin-sang@20261201T000000Z"
    assert item_languages("ann-7-vi-tay@20261201T000000Z#0") == ("vi", "tay")
    assert item_languages("ann-7@20261201T000000Z#0") == ("vi",)
