"""The fleet runner: plays the compiled scenario against a 2030.5 head-end as a fleet of meters would."""
