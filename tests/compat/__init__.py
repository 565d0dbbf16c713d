"""Tests of the compatibility APIs (app/compat/)."""
