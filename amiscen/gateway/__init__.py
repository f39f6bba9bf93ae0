"""amiscen's embedded IEEE 2030.5 head-end: a mutual-TLS HTTPS server with SQLite storage.

It shares only the sep vocabulary with the meters (it never imports the runner).
"""
