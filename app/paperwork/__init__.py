"""Signed paperwork: the transaction confirmation (成交确认书) and the auction record, as PDF."""
