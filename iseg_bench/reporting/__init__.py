"""Everything that turns stored records and bench results into something to read.

``style`` (number formats, the dash for a missing value, every figure's series styles: one colour
per method everywhere), ``tables`` (the NoC table laid out as the EMC-Click paper's Table 3, the
all-metrics table and CSV), ``plots`` (PNG figures), ``robustness_tables`` (click-strategy and
per-sample spread tables), ``efficiency_tables`` (``bench`` results), ``report`` (writes a results
folder's report), ``html`` (the browsable report) and ``emc_paper`` (the EMC-Click paper's Tables
1-3 with our measurements beside the published figures).
"""
