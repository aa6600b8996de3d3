//! Prints argc, argv, `$UMK_TEST_VAR` and facts about the auxiliary vector;
//! exits with status argc (so tests can check exit statuses too).
#![no_std]
#![no_main]

#[path = "../../rt/mod.rs"]
mod rt;

use rt::{at, println, Bytes};

extern "C" {
    fn _start();
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn main(args: &rt::Args) -> i32 {
    println!("argc: {}", args.argc());
    for (i, a) in args.args().enumerate() {
        println!("argv[{}]: {}", i, Bytes(a));
    }
    match args.getenv(b"UMK_TEST_VAR") {
        Some(v) => println!("UMK_TEST_VAR: {}", Bytes(v)),
        None => println!("UMK_TEST_VAR: (unset)"),
    }
    println!(
        "AT_PAGESZ == 4096: {}",
        yes(args.getauxval(at::PAGESZ) == Some(4096))
    );
    let random = args.getauxval(at::RANDOM);
    println!("AT_RANDOM present: {}", yes(random.is_some_and(|p| p != 0)));
    if let Some(p) = random.filter(|&p| p != 0) {
        // SAFETY: AT_RANDOM points to 16 bytes on the initial stack. Reading
        // them checks that the pointer is mapped; their value is never printed.
        let bytes = unsafe { core::ptr::read_volatile(p as *const [u8; 16]) };
        let _ = bytes;
    }
    let entry = args.getauxval(at::ENTRY);
    println!("AT_ENTRY present: {}", yes(entry.is_some()));
    println!(
        "AT_ENTRY == _start: {}",
        yes(entry == Some(_start as *const () as usize))
    );
    println!(
        "AT_PHDR present: {}",
        yes(args.getauxval(at::PHDR).is_some())
    );
    println!(
        "AT_PHNUM > 0: {}",
        yes(args.getauxval(at::PHNUM).is_some_and(|n| n > 0))
    );
    args.argc() as i32
}
