//! Placeholder: the scheduler core (see issue 4).
