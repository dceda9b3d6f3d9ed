"""The fault suite: every fault of the sandbox, disks and journals that fail, crashes and stops, fuzzing and load
against the real server, as a table.

``mvsep-mcp faults`` prints the table; ``tests/faults`` asserts the same rows. Needs the ``sandbox`` extra (the fuzz
rows need ``hypothesis``, from the ``test`` extra).
"""
