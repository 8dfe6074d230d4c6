"""The web app for people: server-rendered pages over the same services and selectors as the
API (SPEC §4.5)."""
