//! See DESIGN.md; not built yet.
