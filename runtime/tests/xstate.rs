//! The ptrace platform's XSAVE hooks against a live stub: the image has the
//! size the signal-frame code expects, and a frame-built image goes back in
//! and comes out unchanged.

use std::sync::Arc;

use umk::mm::Memory;
use umk::platform::{Platform, PlatformKind};
use umk::signal::frame::XstateLayout;

#[test]
fn xstate_round_trip() {
    let memory = Arc::new(Memory::new(1 << 30).expect("memory"));
    let platform = Platform::new(PlatformKind::Ptrace, memory).expect("platform");
    let mut t = platform.new_address_space().expect("stub").thread;
    let l = XstateLayout::get();
    let x = t.xstate().expect("GETREGSET");
    assert_eq!(x.len(), l.ptrace_size, "NT_X86_XSTATE size vs CPUID 0xD");
    // A handler's clean state, with a marker in xmm0 and a rounding mode.
    let mut img = l.init_image();
    img[160..168].copy_from_slice(&0x1234_5678_9abc_def0u64.to_ne_bytes());
    img[24..28].copy_from_slice(&(0x1f80u32 | 0x6000).to_ne_bytes());
    t.set_xstate(&img).expect("SETREGSET");
    let back = t.xstate().expect("GETREGSET");
    assert_eq!(&back[160..168], &img[160..168]);
    assert_eq!(&back[24..28], &img[24..28]);
    assert_eq!(back[0..2], 0x037fu16.to_ne_bytes());
    t.kill();
}
