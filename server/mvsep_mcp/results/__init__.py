"""A finished job's results: the journal's records joined with the files on disk, one package above ``jobs``.

``stored`` (a job's files as served: found, checked, read), ``sessions`` (DAW sessions of picked stems), ``recorded``
(a session file listed in each of its jobs' manifests and rows; the runner's hook that writes the sessions a request
asked for), ``made`` (DJ stems and practice mixes, listed in the manifest) and ``stem_player`` (the stem player's
view and previews). The audio work itself, free of jobs, is :mod:`mvsep_mcp.daw`.
"""
