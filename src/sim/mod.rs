//! A faithful F&O + Entra simulator bound to loopback, for the demo, rehearsals and tests.
