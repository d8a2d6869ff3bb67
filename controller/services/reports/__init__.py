"""Reports upward: what a commune (or every commune of a province) aired in a month or quarter.

``period`` names the calendar period, ``plan`` what each node was meant to play, ``availability``
the speakers' uptime from heartbeats, ``upward`` computes every figure once, and ``export`` writes
those same figures as CSV, XLSX and JSON (the panel page renders them directly).
"""
