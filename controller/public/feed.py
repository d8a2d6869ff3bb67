"""The commune's podcast: RSS 2.0 with one enclosure per recording.

Built with ElementTree (every text escaped by the serializer, never by hand). Dates are RFC
822 (``email.utils.format_datetime``), guids are stable and not permalinks, enclosure
lengths are the exact byte sizes the media route serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from controller.services.public_replay import PublicItem

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ET.register_namespace("itunes", ITUNES)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def build_feed(
    *,
    title: str,
    description: str,
    page_url: str,
    media_url: str,
    commune_id: str,
    items: Iterable[PublicItem],
    built_at: datetime,
    emergency_label: str,
) -> bytes:
    """``media_url`` is the public media prefix; an item's audio is ``{media_url}/{key}.{ext}``."""
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", page_url)
    _sub(channel, "description", description)
    _sub(channel, "language", "vi")
    _sub(channel, "lastBuildDate", format_datetime(built_at))
    _sub(channel, f"{{{ITUNES}}}explicit", "false")
    for item in items:
        if item.audio is None:
            continue
        entry = _sub(channel, "item")
        prefix = f"{emergency_label}: " if item.emergency else ""
        _sub(entry, "title", prefix + item.title)
        _sub(entry, "link", f"{page_url}#{item.key}")
        _sub(entry, "description", item.text or item.title)
        _sub(entry, "guid", f"loa-{commune_id}-{item.key}", isPermaLink="false")
        _sub(entry, "pubDate", format_datetime(item.aired_at))
        _sub(
            entry,
            "enclosure",
            url=f"{media_url}/{item.key}.{item.audio.ext}",
            length=str(item.audio.size),
            type=item.audio.mime,
        )
        _sub(entry, f"{{{ITUNES}}}duration", str(round(item.audio.duration_s)))
    body: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return body
