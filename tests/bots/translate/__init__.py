"""Tests of the translate bot."""
