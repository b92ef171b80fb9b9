"""`tritonlock vendor`: every input a lock pins, brought into one folder that a build reads
with no network at all (see :mod:`tritonlock.vendor.layout` for the folder, and
:mod:`tritonlock.emit.vendored` for the build that reads it).

:func:`tritonlock.vendor.run.vendor` fills the folder from :class:`~tritonlock.vendor.run.Sources`
(:class:`tritonlock.vendor.live.LiveSources` for the network); :mod:`~tritonlock.vendor.manifest`
reads its manifest and checks every byte offline.
"""
