"""The fleet's PKI: a scenario CA, the head-end's server certificate and one 2030.5 device certificate per meter.

Only this package builds certificates (DESIGN.md, Layers).
"""
