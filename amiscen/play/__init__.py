"""Playing a scenario: certificates, compile, the embedded head-end or a gateway, the fleet, the outcome.

This is the one place that knows every layer; the runner and the head-end never know each other.
"""
