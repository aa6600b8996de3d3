//! The smallest guest: one `write`, then `exit_group(0)`.
#![no_std]
#![no_main]

#[path = "../../rt/mod.rs"]
mod rt;

fn main(_args: &rt::Args) -> i32 {
    rt::print_bytes(b"Hello from a freestanding Rust guest!\n");
    0
}
