"""Foundations every stage may use: geodesy, time of day, datum, atomic writes, safe YAML, progress, notices."""
