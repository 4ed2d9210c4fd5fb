"""A referral score learned from past adoptions and judged on a later, unseen period (issue 13).

:mod:`.history` cuts a dated bank at a day T (the graph as of T, and who adopts after T),
:mod:`.features` turns the graph as of T into documented features, :mod:`.model` fits and
selects a monotone model, :mod:`.evaluate` measures rankings on outcomes and
:mod:`.held_out` runs the whole comparison against today's fixed-weight score.
"""
