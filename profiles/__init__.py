"""Comparison profiles and run results. Never imports Textual or Rich."""
