"""Supervision (严督查): roll calls, unannounced inspections, event reports, rectifications.

Sits above the ledger, check-ins, leave and org (it reads them) and below compliance (which
reads `findings`). Nothing below imports it: the check-in answer's `roll_call_status` is added
by a judge that app/main.py hands to the check-in router.
"""
