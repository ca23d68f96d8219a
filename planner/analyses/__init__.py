"""Analyses: one room per question (matrix, route, evaluate, access, fare card, transfers, rail net)."""
