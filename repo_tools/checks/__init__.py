"""Checks: each module turns files of a config repo into findings, without printing."""
