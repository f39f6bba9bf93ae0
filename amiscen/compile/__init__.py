"""The compiler: a scenario becomes what each meter measures. Pure functions, numpy, no I/O, seeded."""
