//! Exits with the status given as argv[1] (exit_group takes an int; the
//! parent sees it modulo 256).
#![no_std]
#![no_main]

#[path = "../../rt/mod.rs"]
mod rt;

use rt::{eprintln, println, Bytes};

fn main(args: &rt::Args) -> i32 {
    let Some(arg) = args.arg(1) else {
        eprintln!("usage: exit_code_rs CODE");
        return 2;
    };
    match rt::parse_i64(arg) {
        Some(code) => {
            println!("exiting with {}", code);
            code as i32
        }
        None => {
            eprintln!("exit_code_rs: not a number: {}", Bytes(arg));
            2
        }
    }
}
