"""The idealized diff: the code a plan is grounded in, the prompts and the model session, the
offline plan, and the changes derived from a finding."""
