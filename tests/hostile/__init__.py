"""Hostile submissions: each attack of issue 10 as a test that asserts the secure behaviour."""
