//! The only code that touches the database: SQLite in WAL mode, shared by several processes.
