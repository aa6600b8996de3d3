//! Placeholder: strace-format trace logs.
