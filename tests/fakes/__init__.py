"""Fake external services for the test suite."""
