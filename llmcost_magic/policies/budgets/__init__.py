"""Hard caps: one reservation model for every budget (cell, budget file, workshop).

Every request that may be sent holds its worst case (:mod:`.worst_case`) in each budget before it is sent
and settles to its real cost afterwards; holds in shared stores are leased (:mod:`.reservations`); a batch
holds its whole worst case at batch prices before it is submitted (:mod:`.batch_holds`).
"""
