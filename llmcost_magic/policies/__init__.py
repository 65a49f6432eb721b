"""Policies a cell or a session can switch on; each acts on calls at the seam."""
