"""Runs (deploy, verify, rollback) that outlive the terminal that started them."""
