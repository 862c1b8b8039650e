"""The Textual dashboard. The only package of smpctl that imports Textual."""
