"""The IEEE 2030.5 vocabulary shared by the meters and the head-end: resources, templates, parsing, ids."""
