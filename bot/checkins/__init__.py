"""Check-ins after the procedure: the assistant texts the patient on a schedule, reads the
answers, and puts those who need a call on the clinic's call list (issue 14).

One module per concept: `schema` (tables), `store` (their data), `schedule` (the clinic's
YAML file), `answers` (reading replies), `sender` (the worker's job), `inbound` (replies
from the SMS channel), `calllist` (escalations), `enrol` (one patient or a CSV), `report` (CSV
export and figures), `retention`, `cli` (`python -m bot checkins`), `clock` (the time seam).
"""
