"""Helpers shared by the test suites: servers on loopback and browser utilities."""
