"""Helpers for the tests: servers they start, and a small client for the API."""
