"""Households and visits (帮扶到户): households and their pairings with members, visits the
household countersigns, call-backs (回访), one plan per household (一户一策). Compliance reads
this package (`findings`); nothing here knows compliance."""
