//! The x86-64 rt signal frame, built and taken apart exactly as Linux does
//! (arch/x86/kernel/signal.c `get_sigframe`, signal_64.c
//! `x64_setup_rt_frame` and `rt_sigreturn`, fpu/signal.c for the FPU part).
//!
//! Stack picture at handler entry, addresses decreasing downwards:
//!
//! ```text
//!   interrupted rsp
//!   128-byte red zone                  (skipped)
//!   [or: top of the alternate stack]
//!   padding to 64
//!   fpstate: XSAVE image, user_size B  (64-aligned; sw bytes at +464)
//!            FP_XSTATE_MAGIC2, 4 B
//!   padding so that (rsp + 8) % 16 == 0
//!   struct rt_sigframe, 440 B:         <- rsp at handler entry
//!     +0    pretcode (sa_restorer)
//!     +8    struct ucontext (304 B): uc_flags, uc_link, uc_stack,
//!           uc_mcontext (struct sigcontext, 256 B), uc_sigmask
//!     +312  siginfo (128 B; written only with SA_SIGINFO)
//! ```
//!
//! The handler's `ret` pops `pretcode`, so at the rt_sigreturn syscall
//! `rsp` = frame + 8: rt_sigreturn reads the ucontext at `rsp - 8 + 8`.
//!
//! The XSAVE image comes from and goes back to the host through ptrace
//! (`NT_X86_XSTATE`: standard format, `fpu_user_cfg.max_size` bytes). The
//! frame holds the first `user_size` bytes of it (the size without dynamic
//! features such as AMX tile data, which a guest never has permission for)
//! with the `_fpx_sw_bytes` Linux writes in the FXSAVE area's software bytes
//! and `FP_XSTATE_MAGIC2` after it (fpu/signal.c `save_xstate_epilog`).

use std::sync::OnceLock;

use guest_abi::signal::*;
use guest_abi::structs::StackT;
use guest_abi::Pod;

use super::action::Handler;
use super::altstack;
use super::info::SigInfo;
use super::sigset::SigSet;
use crate::error::SysResult;
use crate::mm::AddressSpace;
use crate::platform::Regs;

/// Guest memory as frame code sees it: the kernel's `copy_{to,from}_user`.
/// Both fail (EFAULT) on unmapped memory or a missing permission.
pub trait GuestMem {
    fn read(&self, addr: u64, buf: &mut [u8]) -> SysResult<()>;
    fn write(&self, addr: u64, data: &[u8]) -> SysResult<()>;
}

impl GuestMem for AddressSpace {
    fn read(&self, addr: u64, buf: &mut [u8]) -> SysResult<()> {
        AddressSpace::read(self, addr, buf)
    }

    fn write(&self, addr: u64, data: &[u8]) -> SysResult<()> {
        AddressSpace::write(self, addr, data)
    }
}

// --- Layout (arch/x86/include/asm/sigframe.h, uapi asm/sigcontext.h,
// asm-generic/ucontext.h). Offsets are from the start of the rt_sigframe.

/// `sizeof(struct rt_sigframe)` on x86-64.
pub const RT_SIGFRAME_SIZE: u64 = 440;
/// `sizeof(struct ucontext)` (the kernel's, not glibc's 968-byte
/// `ucontext_t`, which adds a 128-byte sigset, an FP area and `__ssp`).
pub const UCONTEXT_SIZE: usize = 304;
/// `sizeof(struct sigcontext)`.
pub const SIGCONTEXT_SIZE: usize = 256;
pub const OFF_PRETCODE: usize = 0;
pub const OFF_UC: usize = 8;
pub const OFF_UC_FLAGS: usize = OFF_UC;
pub const OFF_UC_LINK: usize = OFF_UC + 8;
pub const OFF_UC_STACK: usize = OFF_UC + 16;
pub const OFF_MCONTEXT: usize = OFF_UC + 40;
pub const OFF_SIGMASK: usize = OFF_UC + 296;
pub const OFF_INFO: usize = OFF_UC + UCONTEXT_SIZE;

/// `struct sigcontext` (64-bit) field offsets.
mod sc {
    pub const R8: usize = 0;
    pub const R9: usize = 8;
    pub const R10: usize = 16;
    pub const R11: usize = 24;
    pub const R12: usize = 32;
    pub const R13: usize = 40;
    pub const R14: usize = 48;
    pub const R15: usize = 56;
    pub const RDI: usize = 64;
    pub const RSI: usize = 72;
    pub const RBP: usize = 80;
    pub const RBX: usize = 88;
    pub const RDX: usize = 96;
    pub const RAX: usize = 104;
    pub const RCX: usize = 112;
    pub const RSP: usize = 120;
    pub const RIP: usize = 128;
    pub const EFLAGS: usize = 136;
    /// `__u16 cs, gs, fs, ss` packed in one word.
    pub const CS: usize = 144;
    pub const GS: usize = 146;
    pub const FS: usize = 148;
    pub const SS: usize = 150;
    pub const ERR: usize = 152;
    pub const TRAPNO: usize = 160;
    pub const OLDMASK: usize = 168;
    pub const CR2: usize = 176;
    pub const FPSTATE: usize = 184;
}

/// `uc_flags` bits (arch/x86/include/uapi/asm/ucontext.h).
pub const UC_FP_XSTATE: u64 = 0x1;
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;

/// `_fpx_sw_bytes.magic1` and the word after the XSAVE image.
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
const FP_XSTATE_MAGIC2_SIZE: usize = 4;

/// `__USER_CS` and `__USER_DS` (arch/x86/include/asm/segment.h).
pub const USER_CS: u64 = 0x33;
pub const USER_DS: u64 = 0x2b;

const X86_EFLAGS_CF: u64 = 1 << 0;
const X86_EFLAGS_PF: u64 = 1 << 2;
const X86_EFLAGS_AF: u64 = 1 << 4;
const X86_EFLAGS_ZF: u64 = 1 << 6;
const X86_EFLAGS_SF: u64 = 1 << 7;
const X86_EFLAGS_TF: u64 = 1 << 8;
const X86_EFLAGS_DF: u64 = 1 << 10;
const X86_EFLAGS_OF: u64 = 1 << 11;
const X86_EFLAGS_RF: u64 = 1 << 16;
const X86_EFLAGS_AC: u64 = 1 << 18;
/// The eflags bits rt_sigreturn takes from the frame (`FIX_EFLAGS`); the
/// others (IF, IOPL, VM, ...) keep their current values.
pub const FIX_EFLAGS: u64 = X86_EFLAGS_AC
    | X86_EFLAGS_OF
    | X86_EFLAGS_DF
    | X86_EFLAGS_TF
    | X86_EFLAGS_SF
    | X86_EFLAGS_ZF
    | X86_EFLAGS_AF
    | X86_EFLAGS_PF
    | X86_EFLAGS_CF
    | X86_EFLAGS_RF;

/// The red zone below a leaf function's rsp (x86-64 psABI) that a signal
/// frame must not overwrite.
const RED_ZONE: u64 = 128;

// XSAVE image offsets (Intel SDM vol. 1, 13.4).
const FX_FCW: usize = 0;
const FX_MXCSR: usize = 24;
const FX_MXCSR_MASK: usize = 28;
const FX_ST: usize = 32;
const FX_XMM: usize = 160;
const FX_XMM_END: usize = 416;
const FX_SW_BYTES: usize = 464;
const FX_SIZE: usize = 512;
const XSAVE_HDR_BV: usize = 512;
const XSAVE_HDR_COMP: usize = 520;
const XSAVE_HDR_END: usize = 576;
const XFEATURE_FP: u64 = 1 << 0;
const XFEATURE_SSE: u64 = 1 << 1;
const XFEATURE_YMM: u64 = 1 << 2;
const XFEATURE_FPSSE: u64 = XFEATURE_FP | XFEATURE_SSE;
/// `XFEATURE_MASK_USER_DYNAMIC`: AMX tile data, only with permission
/// (arch_prctl ARCH_REQ_XCOMP_PERM), which guests do not get.
const XFEATURE_USER_DYNAMIC: u64 = 1 << 18;
const FCW_INIT: u16 = 0x037f;
const MXCSR_INIT: u32 = 0x1f80;

/// The host's XSAVE geometry, from CPUID leaf 0xD and XCR0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XstateLayout {
    /// XSAVE is enabled (CPUID.1:ECX.OSXSAVE). Without it the frame holds a
    /// bare 512-byte FXSAVE image and `uc_flags` lacks UC_FP_XSTATE.
    pub xsave: bool,
    /// XCR0: the user state components the host enabled.
    pub xcr0: u64,
    /// Bytes of XSAVE image in a guest's signal frame (the kernel's
    /// `fpstate->user_size` for a task without dynamic features).
    pub frame_size: usize,
    /// `fpstate->user_xfeatures`: XCR0 without the dynamic features.
    pub frame_features: u64,
    /// Bytes of the ptrace `NT_X86_XSTATE` image (`fpu_user_cfg.max_size`:
    /// CPUID 0xD.0 EBX, the size for everything in XCR0).
    pub ptrace_size: usize,
    /// MXCSR bits that may be set (FXSAVE's MXCSR_MASK; 0xffbf if zero).
    pub mxcsr_mask: u32,
}

fn cpuid(leaf: u32, sub: u32) -> core::arch::x86_64::CpuidResult {
    // SAFETY: CPUID is available on every x86-64 CPU.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::__cpuid_count(leaf, sub)
    }
}

fn xgetbv0() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: XGETBV with ECX = 0 reads XCR0; callers check OSXSAVE first,
    // without which the instruction would fault.
    unsafe {
        core::arch::asm!("xgetbv", in("ecx") 0u32, out("eax") lo, out("edx") hi,
                         options(nomem, nostack, preserves_flags));
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

fn host_mxcsr_mask() -> u32 {
    #[repr(C, align(16))]
    struct Area([u8; 512]);
    let mut a = Area([0; 512]);
    // SAFETY: FXSAVE64 writes exactly 512 bytes to a 16-byte aligned
    // buffer; FXSR is part of the x86-64 baseline.
    unsafe { core::arch::x86_64::_fxsave64(a.0.as_mut_ptr()) };
    let m = u32::from_ne_bytes([a.0[28], a.0[29], a.0[30], a.0[31]]);
    if m == 0 {
        0xffbf
    } else {
        m
    }
}

impl XstateLayout {
    fn probe() -> XstateLayout {
        let osxsave = cpuid(1, 0).ecx & (1 << 27) != 0;
        let mxcsr_mask = host_mxcsr_mask();
        if !osxsave || cpuid(0, 0).eax < 0xd {
            return XstateLayout {
                xsave: false,
                xcr0: XFEATURE_FPSSE,
                frame_size: FX_SIZE,
                frame_features: XFEATURE_FPSSE,
                ptrace_size: FX_SIZE,
                mxcsr_mask,
            };
        }
        let xcr0 = xgetbv0();
        let frame_features = xcr0 & !XFEATURE_USER_DYNAMIC;
        // fpu/xstate.c `xstate_calculate_size` (standard format): the end of
        // the highest enabled component, at least legacy area + header.
        let mut frame_size = XSAVE_HDR_END;
        for i in 2..63 {
            if frame_features & (1 << i) != 0 {
                let r = cpuid(0xd, i);
                frame_size = frame_size.max((r.ebx + r.eax) as usize);
            }
        }
        let ptrace_size = (cpuid(0xd, 0).ebx as usize).max(frame_size);
        XstateLayout {
            xsave: true,
            xcr0,
            frame_size,
            frame_features,
            ptrace_size,
            mxcsr_mask,
        }
    }

    /// The host's layout (probed once).
    pub fn get() -> &'static XstateLayout {
        static L: OnceLock<XstateLayout> = OnceLock::new();
        L.get_or_init(XstateLayout::probe)
    }

    /// Bytes the FPU part takes in a frame (`xstate_sigframe_size`).
    pub fn sigframe_fp_size(&self) -> usize {
        if self.xsave {
            self.frame_size + FP_XSTATE_MAGIC2_SIZE
        } else {
            self.frame_size
        }
    }

    /// The most stack a guest signal frame takes below the alternate stack's
    /// top (64-byte alignment slack, FPU part, rt_sigframe, 16-byte slack
    /// and the 8 below it).
    pub fn max_frame_bytes(&self) -> u64 {
        63 + self.sigframe_fp_size() as u64 + RT_SIGFRAME_SIZE + 15 + 8
    }

    /// `AT_MINSIGSTKSZ` as the host kernel computes it
    /// (arch/x86/kernel/signal.c `init_sigframe_size`): the largest frame
    /// of any ABI (`sizeof(struct sigframe_ia32)` = 732 with
    /// CONFIG_IA32_EMULATION, else `sizeof(struct rt_sigframe)` = 440),
    /// plus 15, plus `fpu__get_fpstate_size()` (max_size + 4, and 112 for
    /// the i387 `fregs_state` with IA32 emulation), plus 63; rounded up to 16.
    pub fn kernel_minsigstksz(&self, ia32_emulation: bool) -> u64 {
        let (frame, fsave) = if ia32_emulation { (732, 112) } else { (440, 0) };
        let magic = if self.xsave { FP_XSTATE_MAGIC2_SIZE } else { 0 };
        let size = frame + 15 + self.ptrace_size + magic + fsave + 63;
        size.next_multiple_of(16) as u64
    }

    /// The FPU state a signal handler starts with (`fpu__clear_user_states`:
    /// every component in its init state, FCW 0x37f, MXCSR 0x1f80), as an
    /// `NT_X86_XSTATE` image. FP and SSE are marked present with their init
    /// values spelled out: ptrace leaves MXCSR alone unless one of them is.
    pub fn init_image(&self) -> Vec<u8> {
        let mut x = vec![0u8; self.ptrace_size];
        put16(&mut x, FX_FCW, FCW_INIT);
        put32(&mut x, FX_MXCSR, MXCSR_INIT);
        if self.xsave {
            put64(&mut x, XSAVE_HDR_BV, XFEATURE_FPSSE);
        }
        x
    }
}

/// `AT_MINSIGSTKSZ` for guests: the host's own value (what the same program
/// sees natively), else the kernel's formula for this CPU. Always at least
/// the largest frame umk builds ([`XstateLayout::max_frame_bytes`]).
pub fn minsigstksz() -> u64 {
    let l = XstateLayout::get();
    // SAFETY: getauxval takes and returns integers.
    let host = unsafe { libc::getauxval(libc::AT_MINSIGSTKSZ) };
    let v = if host != 0 {
        host
    } else {
        l.kernel_minsigstksz(true)
    };
    v.max(l.max_frame_bytes())
}

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_ne_bytes());
}
fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
}
fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_ne_bytes());
}
fn get16(b: &[u8], off: usize) -> u16 {
    u16::from_ne_bytes([b[off], b[off + 1]])
}
fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}
fn get64(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(w)
}

/// The exception details a fault leaves in `sigcontext` (`trapno`, `err`,
/// `cr2`: Linux's `thread.trap_nr`, `error_code`, `cr2`, which keep the last
/// signal-raising exception's values; zero before any). ptrace does not
/// expose the host's, so a caller derives them: [`FaultRegs::guess`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRegs {
    pub trapno: u64,
    pub err: u64,
    pub cr2: u64,
}

impl FaultRegs {
    /// Best-effort exception details for a fault the host reported as
    /// (`signo`, `si_code`, `addr`). A page fault's error code is
    /// user-mode (4) plus present (1) for SEGV_ACCERR; whether it was a
    /// write (2) is not known to umk.
    pub fn guess(signo: u32, code: i32, addr: u64) -> FaultRegs {
        const X86_TRAP_DE: u64 = 0;
        const X86_TRAP_BP: u64 = 3;
        const X86_TRAP_UD: u64 = 6;
        const X86_TRAP_GP: u64 = 13;
        const X86_TRAP_PF: u64 = 14;
        const X86_TRAP_MF: u64 = 16;
        const X86_TRAP_XF: u64 = 19;
        match (signo, code) {
            (SIGSEGV, SEGV_MAPERR) | (SIGBUS, _) => FaultRegs {
                trapno: X86_TRAP_PF,
                err: 4,
                cr2: addr,
            },
            (SIGSEGV, SEGV_ACCERR) | (SIGSEGV, SEGV_PKUERR) => FaultRegs {
                trapno: X86_TRAP_PF,
                err: 5,
                cr2: addr,
            },
            (SIGSEGV, _) => FaultRegs {
                trapno: X86_TRAP_GP,
                ..FaultRegs::default()
            },
            (SIGFPE, FPE_INTDIV) | (SIGFPE, FPE_INTOVF) => FaultRegs {
                trapno: X86_TRAP_DE,
                ..FaultRegs::default()
            },
            (SIGFPE, _) => FaultRegs {
                trapno: if code == FPE_FLTUNK {
                    X86_TRAP_MF
                } else {
                    X86_TRAP_XF
                },
                ..FaultRegs::default()
            },
            (SIGILL, _) => FaultRegs {
                trapno: X86_TRAP_UD,
                ..FaultRegs::default()
            },
            (SIGTRAP, _) => FaultRegs {
                trapno: X86_TRAP_BP,
                ..FaultRegs::default()
            },
            _ => FaultRegs::default(),
        }
    }
}

/// Everything frame setup needs.
#[derive(Clone, Copy, Debug)]
pub struct FrameRequest<'a> {
    pub sig: u32,
    pub info: &'a SigInfo,
    pub handler: &'a Handler,
    /// The thread's registers at the point of delivery, *after* syscall
    /// restart processing ([`super::restart_with_handler`]).
    pub regs: &'a Regs,
    /// The thread's `NT_X86_XSTATE` image (`GuestThread::xstate`).
    pub xstate: &'a [u8],
    /// The mask rt_sigreturn will restore (`uc_sigmask`, `sc.oldmask`):
    /// the mask saved by sigsuspend/ppoll/pselect6/epoll_pwait if one of
    /// them is in progress, else the blocked set (`sigmask_to_save`).
    pub saved_mask: SigSet,
    /// The thread's alternate stack as stored.
    pub altstack: StackT,
    pub fault: FaultRegs,
}

/// A frame that was written.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The registers the handler starts with.
    pub regs: Regs,
    /// The FPU state the handler starts with (set it with
    /// `GuestThread::set_xstate`).
    pub xstate: Vec<u8>,
    /// The alternate stack after delivery (disarmed with SS_AUTODISARM).
    pub altstack: StackT,
    /// Where the rt_sigframe starts (the handler's rsp).
    pub addr: u64,
}

/// Why no frame could be written: Linux then forces SIGSEGV
/// (`signal_setup_done` → `force_sigsegv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The handler has no SA_RESTORER: nowhere to return to on x86-64.
    NoRestorer,
    /// The frame would overflow the alternate stack (`get_sigframe`
    /// returns an always-bogus address).
    AltStackOverflow,
    /// Part of the frame is not writable guest memory.
    Fault,
    /// The XSAVE image from the platform is shorter than the layout says.
    BadXstate,
}

/// Where the frame and its FPU part go (`get_sigframe`), without writing.
/// Returns `(frame, fpstate)`.
pub fn frame_address(
    l: &XstateLayout,
    rsp: u64,
    flags: u64,
    altstack: &StackT,
) -> Result<(u64, u64), FrameError> {
    let nested = altstack::on_stack(altstack, rsp);
    let mut sp = rsp.wrapping_sub(RED_ZONE);
    let mut entering = false;
    // "X/Open sanctioned signal stack switching": only when not on it yet
    // (sas_ss_flags(sp) == 0 also means "enabled").
    if flags & SA_ONSTACK != 0 && altstack::mode(altstack, sp) == 0 {
        sp = altstack.ss_sp.wrapping_add(altstack.ss_size);
        entering = true;
    }
    // fpu__alloc_mathframe: the FPU part, 64-byte aligned.
    let fpstate = sp.wrapping_sub(l.sigframe_fp_size() as u64) & !63;
    // The frame, so that rsp + 8 is 16-byte aligned at handler entry, as
    // after a call instruction.
    let frame = (fpstate.wrapping_sub(RT_SIGFRAME_SIZE) & !15).wrapping_sub(8);
    if (nested || entering) && !altstack::within(altstack, frame) {
        return Err(FrameError::AltStackOverflow);
    }
    Ok((frame, fpstate))
}

/// The FPU part of a frame from an `NT_X86_XSTATE` image
/// (`copy_fpstate_to_sigframe` + `save_xstate_epilog`).
fn fp_part(l: &XstateLayout, image: &[u8]) -> Result<Vec<u8>, FrameError> {
    if image.len() < l.frame_size {
        return Err(FrameError::BadXstate);
    }
    let mut fp = image[..l.frame_size].to_vec();
    if !l.xsave {
        return Ok(fp);
    }
    // struct _fpx_sw_bytes { magic1, extended_size, xfeatures, xstate_size,
    // padding[7] }: ptrace put the host-wide values here; a frame has the
    // task's own (`save_sw_bytes`).
    fp[FX_SW_BYTES..FX_SIZE].fill(0);
    put32(&mut fp, FX_SW_BYTES, FP_XSTATE_MAGIC1);
    put32(
        &mut fp,
        FX_SW_BYTES + 4,
        (l.frame_size + FP_XSTATE_MAGIC2_SIZE) as u32,
    );
    put64(&mut fp, FX_SW_BYTES + 8, l.frame_features);
    put32(&mut fp, FX_SW_BYTES + 16, l.frame_size as u32);
    // "For legacy compatible, we always set FP/SSE bits in the bit vector
    // while saving the state to the user context."
    let bv = get64(&fp, XSAVE_HDR_BV);
    put64(
        &mut fp,
        XSAVE_HDR_BV,
        (bv | XFEATURE_FPSSE) & l.frame_features,
    );
    fp[XSAVE_HDR_COMP..XSAVE_HDR_END].fill(0);
    fp.extend_from_slice(&FP_XSTATE_MAGIC2.to_ne_bytes());
    Ok(fp)
}

/// Writes the rt signal frame for a handler and returns the handler's
/// registers and FPU state (`x64_setup_rt_frame` + `handle_signal`). The
/// caller then sets the handler's blocked mask
/// ([`super::action::handler_mask`]); on error it forces SIGSEGV.
pub fn setup_rt_frame(mem: &dyn GuestMem, req: &FrameRequest<'_>) -> Result<Frame, FrameError> {
    setup_with_layout(mem, req, XstateLayout::get())
}

fn setup_with_layout(
    mem: &dyn GuestMem,
    req: &FrameRequest<'_>,
    l: &XstateLayout,
) -> Result<Frame, FrameError> {
    let h = req.handler;
    let r = req.regs;
    let (frame, fpstate) = frame_address(l, r.rsp, h.flags, &req.altstack)?;
    let fp = fp_part(l, req.xstate)?;
    mem.write(fpstate, &fp).map_err(|_| FrameError::Fault)?;
    // "x86-64 should always use SA_RESTORER."
    if h.flags & SA_RESTORER == 0 {
        return Err(FrameError::NoRestorer);
    }

    let mut b = vec![0u8; OFF_INFO];
    put64(&mut b, OFF_PRETCODE, h.restorer);
    let uc_flags = if l.xsave {
        UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
    } else {
        UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
    };
    put64(&mut b, OFF_UC_FLAGS, uc_flags);
    put64(&mut b, OFF_UC_LINK, 0);
    // unsafe_save_altstack: the raw sas_ss_* fields.
    let st = altstack::normalized(&req.altstack);
    b[OFF_UC_STACK..OFF_UC_STACK + 24].copy_from_slice(st.as_bytes());
    let m = OFF_MCONTEXT;
    for (off, v) in [
        (sc::R8, r.r8),
        (sc::R9, r.r9),
        (sc::R10, r.r10),
        (sc::R11, r.r11),
        (sc::R12, r.r12),
        (sc::R13, r.r13),
        (sc::R14, r.r14),
        (sc::R15, r.r15),
        (sc::RDI, r.rdi),
        (sc::RSI, r.rsi),
        (sc::RBP, r.rbp),
        (sc::RBX, r.rbx),
        (sc::RDX, r.rdx),
        (sc::RAX, r.rax),
        (sc::RCX, r.rcx),
        (sc::RSP, r.rsp),
        (sc::RIP, r.rip),
        (sc::EFLAGS, r.eflags),
        (sc::ERR, req.fault.err),
        (sc::TRAPNO, req.fault.trapno),
        (sc::OLDMASK, req.saved_mask.raw()),
        (sc::CR2, req.fault.cr2),
        (sc::FPSTATE, fpstate),
    ] {
        put64(&mut b, m + off, v);
    }
    // cs, then gs and fs written as 0, then ss.
    put16(&mut b, m + sc::CS, r.cs as u16);
    put16(&mut b, m + sc::GS, 0);
    put16(&mut b, m + sc::FS, 0);
    put16(&mut b, m + sc::SS, r.ss as u16);
    put64(&mut b, OFF_SIGMASK, req.saved_mask.raw());
    if h.flags & SA_SIGINFO != 0 {
        // Only with SA_SIGINFO (x64_setup_rt_frame); otherwise those 128
        // bytes keep whatever the stack held.
        b.extend_from_slice(req.info.as_bytes());
    }
    mem.write(frame, &b).map_err(|_| FrameError::Fault)?;

    let mut n = *r;
    n.rdi = u64::from(req.sig);
    n.rax = 0;
    n.rsi = frame + OFF_INFO as u64;
    n.rdx = frame + OFF_UC as u64;
    n.rip = h.handler;
    n.rsp = frame;
    n.cs = USER_CS;
    n.ss = USER_DS;
    // handle_signal: DF clear per the ABI; RF and TF cleared too.
    n.eflags &= !(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF);
    // Not in a syscall any more: no restart processing, by umk or by the
    // host kernel on the stub's way out.
    n.orig_rax = u64::MAX;

    let mut altstack = req.altstack;
    if altstack.ss_flags & SS_AUTODISARM != 0 {
        altstack = altstack::DISABLED;
    }
    Ok(Frame {
        regs: n,
        xstate: l.init_image(),
        altstack,
        addr: frame,
    })
}

/// What rt_sigreturn restores.
#[derive(Clone, Debug)]
pub struct Restored {
    /// The registers to resume with; `rax` is also the syscall's "return
    /// value" (rt_sigreturn returns `regs->ax`), `orig_rax` is -1.
    pub regs: Regs,
    /// The FPU state as an `NT_X86_XSTATE` image.
    pub xstate: Vec<u8>,
    /// The blocked set (`uc_sigmask` without SIGKILL/SIGSTOP).
    pub blocked: SigSet,
    /// The alternate stack after `restore_altstack` (whose errors Linux
    /// squashes: on failure it is the current one, unchanged).
    pub altstack: StackT,
}

/// Why rt_sigreturn failed; the caller forces SIGSEGV (`signal_fault`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigreturnError {
    /// The ucontext could not be read: nothing changed.
    Unreadable,
    /// The registers or FPU state were bad. Linux has already installed
    /// the frame's mask by then (`set_current_blocked` comes first), so the
    /// caller sets `blocked` before forcing SIGSEGV.
    BadContext { blocked: SigSet },
}

/// rt_sigreturn(2): reads back the frame whose ucontext starts at `rsp`
/// (the handler's `ret` popped `pretcode`: signal_64.c computes `frame =
/// regs->sp - sizeof(long)`, and the ucontext is at `frame + 8`).
pub fn restore_rt_frame(
    mem: &dyn GuestMem,
    regs: &Regs,
    altstack: &StackT,
) -> Result<Restored, SigreturnError> {
    restore_with_layout(mem, regs, altstack, XstateLayout::get())
}

fn restore_with_layout(
    mem: &dyn GuestMem,
    regs: &Regs,
    altstack: &StackT,
    l: &XstateLayout,
) -> Result<Restored, SigreturnError> {
    let frame = regs.rsp.wrapping_sub(8);
    let uc_addr = frame.wrapping_add(OFF_UC as u64);
    let mut uc = vec![0u8; UCONTEXT_SIZE];
    mem.read(uc_addr, &mut uc)
        .map_err(|_| SigreturnError::Unreadable)?;
    let at = |off: usize| off - OFF_UC;
    let blocked = SigSet(get64(&uc, at(OFF_SIGMASK))).settable();
    let bad = SigreturnError::BadContext { blocked };

    let m = at(OFF_MCONTEXT);
    let g = |off: usize| get64(&uc, m + off);
    let mut n = *regs;
    n.r8 = g(sc::R8);
    n.r9 = g(sc::R9);
    n.r10 = g(sc::R10);
    n.r11 = g(sc::R11);
    n.r12 = g(sc::R12);
    n.r13 = g(sc::R13);
    n.r14 = g(sc::R14);
    n.r15 = g(sc::R15);
    n.rdi = g(sc::RDI);
    n.rsi = g(sc::RSI);
    n.rbp = g(sc::RBP);
    n.rbx = g(sc::RBX);
    n.rdx = g(sc::RDX);
    n.rax = g(sc::RAX);
    n.rcx = g(sc::RCX);
    n.rsp = g(sc::RSP);
    n.rip = g(sc::RIP);
    // Linux ORs 3 into the frame's cs and ss (CPL 3), which would let a
    // guest switch to 32-bit code with cs 0x23; umk runs 64-bit guests only,
    // so both are forced to the 64-bit user selectors (what every frame
    // Linux writes holds anyway).
    let _ = get16(&uc, m + sc::CS);
    n.cs = USER_CS;
    n.ss = USER_DS;
    n.eflags = (regs.eflags & !FIX_EFLAGS) | (g(sc::EFLAGS) & FIX_EFLAGS);
    n.orig_rax = u64::MAX;

    let xstate = restore_fp(mem, l, g(sc::FPSTATE)).ok_or(bad)?;

    // restore_altstack: do_sigaltstack at the *restored* stack pointer;
    // errors are squashed.
    let mut st = *altstack;
    let mut new = StackT::default();
    mem.read(uc_addr + (OFF_UC_STACK - OFF_UC) as u64, new.as_bytes_mut())
        .map_err(|_| bad)?;
    if altstack::set(&mut st, &new, n.rsp).is_err() {
        st = *altstack;
    }
    Ok(Restored {
        regs: n,
        xstate,
        blocked,
        altstack: st,
    })
}

/// The FPU state from a frame's `fpstate` pointer (fpu/signal.c
/// `fpu__restore_sig`), as an `NT_X86_XSTATE` image; `None` for a bad one.
fn restore_fp(mem: &dyn GuestMem, l: &XstateLayout, buf: u64) -> Option<Vec<u8>> {
    // No FPU state in the frame: the FPU is reset.
    if buf == 0 {
        return Some(l.init_image());
    }
    let mut legacy = vec![0u8; FX_SIZE];
    mem.read(buf, &mut legacy).ok()?;
    // check_xstate_in_sigframe: without valid sw bytes and MAGIC2 the frame
    // is "fx only": FP/SSE come from FXRSTOR, the rest is reset.
    let mut xrestore = XFEATURE_FPSSE;
    let mut full = None;
    if l.xsave {
        let magic1 = get32(&legacy, FX_SW_BYTES);
        let extended = get32(&legacy, FX_SW_BYTES + 4) as usize;
        let features = get64(&legacy, FX_SW_BYTES + 8);
        let size = get32(&legacy, FX_SW_BYTES + 16) as usize;
        if magic1 == FP_XSTATE_MAGIC1
            && size >= XSAVE_HDR_END
            && size <= l.frame_size
            && size <= extended
        {
            let mut m2 = [0u8; 4];
            mem.read(buf.checked_add(size as u64)?, &mut m2).ok()?;
            if u32::from_ne_bytes(m2) == FP_XSTATE_MAGIC2 {
                let mut img = vec![0u8; l.frame_size];
                mem.read(buf, &mut img).ok()?;
                xrestore = features & l.frame_features;
                full = Some(img);
            }
        }
    }
    let mut x = vec![0u8; l.ptrace_size];
    match full {
        None => {
            // FXRSTOR: #GP on reserved MXCSR bits (a bad frame).
            if get32(&legacy, FX_MXCSR) & !l.mxcsr_mask != 0 {
                return None;
            }
            x[..FX_SW_BYTES].copy_from_slice(&legacy[..FX_SW_BYTES]);
            if l.xsave {
                put64(&mut x, XSAVE_HDR_BV, XFEATURE_FPSSE);
            }
        }
        Some(img) => {
            let bv = get64(&img, XSAVE_HDR_BV);
            // XRSTOR (standard form) raises #GP for components not in XCR0,
            // a compacted-format or non-zero reserved header, reserved MXCSR
            // bits: Linux turns that into a bad frame.
            if bv & !l.xcr0 != 0
                || get64(&img, XSAVE_HDR_COMP) != 0
                || get64(&img, XSAVE_HDR_COMP + 8) != 0
            {
                return None;
            }
            if xrestore & (XFEATURE_SSE | XFEATURE_YMM) != 0
                && get32(&img, FX_MXCSR) & !l.mxcsr_mask != 0
            {
                return None;
            }
            x[..FX_SW_BYTES].copy_from_slice(&img[..FX_SW_BYTES]);
            x[XSAVE_HDR_END..l.frame_size].copy_from_slice(&img[XSAVE_HDR_END..l.frame_size]);
            // Components outside xrestore, or outside XSTATE_BV, end in
            // their init state. ptrace inits what XSTATE_BV lacks, except
            // that it only loads MXCSR when FP or SSE is present: spell
            // the FP and SSE init values out and mark both present.
            let present = bv & xrestore;
            if present & XFEATURE_FP == 0 {
                x[..FX_MXCSR].fill(0);
                x[FX_ST..FX_XMM].fill(0);
                put16(&mut x, FX_FCW, FCW_INIT);
            }
            if present & XFEATURE_SSE == 0 {
                x[FX_XMM..FX_XMM_END].fill(0);
            }
            if xrestore & (XFEATURE_SSE | XFEATURE_YMM) == 0 {
                put32(&mut x, FX_MXCSR, MXCSR_INIT);
            }
            put64(&mut x, XSAVE_HDR_BV, present | XFEATURE_FPSSE);
        }
    }
    // MXCSR_MASK is not state; keep the host's (ptrace ignores it when FP
    // is present, but a clean image is easier to compare).
    put32(&mut x, FX_MXCSR_MASK, l.mxcsr_mask);
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EFAULT;
    use std::cell::RefCell;

    /// Guest memory `[base, base + len)`, all writable.
    struct FakeMem {
        base: u64,
        bytes: RefCell<Vec<u8>>,
    }

    impl FakeMem {
        fn new(base: u64, len: usize) -> FakeMem {
            FakeMem {
                base,
                bytes: RefCell::new(vec![0xaa; len]),
            }
        }
        fn range(&self, addr: u64, len: usize) -> SysResult<std::ops::Range<usize>> {
            let end = self.base + self.bytes.borrow().len() as u64;
            if addr < self.base || addr.checked_add(len as u64).is_none_or(|e| e > end) {
                return Err(EFAULT);
            }
            let s = (addr - self.base) as usize;
            Ok(s..s + len)
        }
        fn u64_at(&self, addr: u64) -> u64 {
            let mut b = [0u8; 8];
            self.read(addr, &mut b).expect("mapped");
            u64::from_ne_bytes(b)
        }
    }

    impl GuestMem for FakeMem {
        fn read(&self, addr: u64, buf: &mut [u8]) -> SysResult<()> {
            let r = self.range(addr, buf.len())?;
            buf.copy_from_slice(&self.bytes.borrow()[r]);
            Ok(())
        }
        fn write(&self, addr: u64, data: &[u8]) -> SysResult<()> {
            let r = self.range(addr, data.len())?;
            self.bytes.borrow_mut()[r].copy_from_slice(data);
            Ok(())
        }
    }

    const BASE: u64 = 0x10_0000;
    const LEN: usize = 0x10_000;

    fn layout() -> XstateLayout {
        XstateLayout {
            xsave: true,
            xcr0: 0x2e7,
            frame_size: 2696,
            frame_features: 0x2e7,
            ptrace_size: 2696,
            mxcsr_mask: 0xffff,
        }
    }

    fn regs() -> Regs {
        // SAFETY: user_regs_struct is plain integers.
        let mut r: Regs = unsafe { std::mem::zeroed() };
        let vals = [
            &mut r.r8, &mut r.r9, &mut r.r10, &mut r.r11, &mut r.r12, &mut r.r13, &mut r.r14,
            &mut r.r15, &mut r.rdi, &mut r.rsi, &mut r.rbp, &mut r.rbx, &mut r.rdx, &mut r.rax,
            &mut r.rcx,
        ];
        for (i, v) in vals.into_iter().enumerate() {
            *v = 0x1111_0000 + i as u64;
        }
        r.rip = 0x40_1234;
        r.rsp = BASE + 0x8003; // deliberately misaligned
        r.eflags = 0x246 | X86_EFLAGS_DF;
        r.cs = USER_CS;
        r.ss = USER_DS;
        r.orig_rax = 0;
        r
    }

    fn image(l: &XstateLayout) -> Vec<u8> {
        let mut x = l.init_image();
        // Some xmm and ymm-high contents, in use.
        for (i, b) in x[FX_XMM..FX_XMM_END].iter_mut().enumerate() {
            *b = i as u8;
        }
        x[576..576 + 256].fill(0x5a);
        put64(&mut x, XSAVE_HDR_BV, 0x7);
        put32(&mut x, FX_MXCSR, 0x1f80 | 0x6000); // round toward zero
        x
    }

    fn handler(flags: u64) -> Handler {
        Handler {
            handler: 0x40_2000,
            flags: flags | SA_RESTORER,
            mask: SigSet::EMPTY,
            restorer: 0x40_3000,
        }
    }

    /// A frame request for `sig` with an empty saved mask, no alternate
    /// stack and no fault details (tests override fields).
    fn request<'a>(
        sig: u32,
        info: &'a SigInfo,
        handler: &'a Handler,
        regs: &'a Regs,
        xstate: &'a [u8],
    ) -> FrameRequest<'a> {
        FrameRequest {
            sig,
            info,
            handler,
            regs,
            xstate,
            saved_mask: SigSet::EMPTY,
            altstack: StackT::default(),
            fault: FaultRegs::default(),
        }
    }

    #[test]
    fn kernel_struct_sizes() {
        assert_eq!(std::mem::size_of::<guest_abi::structs::Siginfo>(), 128);
        assert_eq!(OFF_UC, 8);
        assert_eq!(OFF_INFO, 8 + UCONTEXT_SIZE);
        assert_eq!(RT_SIGFRAME_SIZE as usize, OFF_INFO + 128);
        assert_eq!(OFF_SIGMASK - OFF_MCONTEXT, SIGCONTEXT_SIZE);
        assert_eq!(sc::FPSTATE + 8 + 64, SIGCONTEXT_SIZE);
    }

    #[test]
    fn build_layout_and_registers() {
        let l = layout();
        let mem = FakeMem::new(BASE, LEN);
        let r = regs();
        let info = SigInfo::kill(SIGUSR1, 3, 4);
        let h = handler(SA_SIGINFO);
        let x = image(&l);
        let req = FrameRequest {
            saved_mask: SigSet::of(SIGUSR2),
            ..request(SIGUSR1, &info, &h, &r, &x)
        };
        let f = setup_with_layout(&mem, &req, &l).expect("frame");
        let n = &f.regs;
        assert_eq!((n.rsp + 8) % 16, 0, "call-aligned handler stack");
        assert!(n.rsp + RT_SIGFRAME_SIZE <= r.rsp - RED_ZONE);
        assert_eq!(n.rip, h.handler);
        assert_eq!((n.rdi, n.rax), (u64::from(SIGUSR1), 0));
        assert_eq!(n.rsi, n.rsp + 312);
        assert_eq!(n.rdx, n.rsp + 8);
        assert_eq!(n.eflags & X86_EFLAGS_DF, 0);
        assert_eq!(mem.u64_at(n.rsp), h.restorer);
        assert_eq!(
            mem.u64_at(n.rsp + 8),
            UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
        );
        assert_eq!(
            mem.u64_at(n.rsp + OFF_SIGMASK as u64),
            SigSet::of(SIGUSR2).raw()
        );
        let mc = n.rsp + OFF_MCONTEXT as u64;
        assert_eq!(mem.u64_at(mc + sc::RIP as u64), r.rip);
        assert_eq!(mem.u64_at(mc + sc::RSP as u64), r.rsp);
        assert_eq!(mem.u64_at(mc + sc::R8 as u64), r.r8);
        assert_eq!(mem.u64_at(mc + sc::RCX as u64), r.rcx);
        assert_eq!(mem.u64_at(mc + sc::CS as u64) & 0xffff, USER_CS);
        let fp = mem.u64_at(mc + sc::FPSTATE as u64);
        assert_eq!(fp % 64, 0);
        assert!(fp >= n.rsp + RT_SIGFRAME_SIZE);
        assert!(fp + l.frame_size as u64 + 4 <= r.rsp - RED_ZONE);
        let mut sw = [0u8; 48];
        mem.read(fp + 464, &mut sw).expect("mapped");
        assert_eq!(get32(&sw, 0), FP_XSTATE_MAGIC1);
        assert_eq!(get32(&sw, 4) as usize, l.frame_size + 4);
        assert_eq!(get64(&sw, 8), l.frame_features);
        assert_eq!(get32(&sw, 16) as usize, l.frame_size);
        let mut m2 = [0u8; 4];
        mem.read(fp + l.frame_size as u64, &mut m2).expect("mapped");
        assert_eq!(u32::from_ne_bytes(m2), FP_XSTATE_MAGIC2);
        let mut si = [0u8; 128];
        mem.read(n.rsp + 312, &mut si).expect("mapped");
        assert_eq!(&si[..], info.as_bytes());
        // The handler starts with a clean FPU.
        assert_eq!(get32(&f.xstate, FX_MXCSR), MXCSR_INIT);
        assert_eq!(get16(&f.xstate, FX_FCW), FCW_INIT);
    }

    #[test]
    fn no_siginfo_leaves_info_area_alone() {
        let l = layout();
        let mem = FakeMem::new(BASE, LEN);
        let r = regs();
        let info = SigInfo::kill(SIGUSR1, 3, 4);
        let h = handler(0);
        let x = image(&l);
        let req = request(SIGUSR1, &info, &h, &r, &x);
        let f = setup_with_layout(&mem, &req, &l).expect("frame");
        assert_eq!(mem.u64_at(f.addr + 312), 0xaaaa_aaaa_aaaa_aaaa);
    }

    #[test]
    fn round_trip() {
        let l = layout();
        let mem = FakeMem::new(BASE, LEN);
        let r = regs();
        let info = SigInfo::tkill(SIGUSR1, 3, 4);
        let h = handler(SA_SIGINFO);
        let x = image(&l);
        let saved = SigSet::of(SIGUSR2).union(SigSet::of(SIGRTMIN + 1));
        let req = FrameRequest {
            saved_mask: saved,
            ..request(SIGUSR1, &info, &h, &r, &x)
        };
        let f = setup_with_layout(&mem, &req, &l).expect("frame");
        // The handler runs, clobbers registers, and returns: `ret` pops
        // pretcode, then rt_sigreturn.
        let mut at_sigreturn = f.regs;
        at_sigreturn.rsp += 8;
        at_sigreturn.rax = 15;
        at_sigreturn.orig_rax = 15;
        at_sigreturn.rbx = 0xdead;
        let back =
            restore_with_layout(&mem, &at_sigreturn, &StackT::default(), &l).expect("restored");
        let mut want = r;
        want.orig_rax = u64::MAX;
        assert_eq!(back.regs, want);
        assert_eq!(back.blocked, saved);
        let mut want_x = x.clone();
        put32(&mut want_x, FX_MXCSR_MASK, l.mxcsr_mask);
        assert_eq!(back.xstate, want_x);
        assert_eq!(back.altstack, StackT::default());
    }

    #[test]
    fn bad_fpstate_magic_restores_fx_only() {
        let l = layout();
        let mem = FakeMem::new(BASE, LEN);
        let r = regs();
        let info = SigInfo::tkill(SIGUSR1, 3, 4);
        let h = handler(SA_SIGINFO);
        let x = image(&l);
        let req = request(SIGUSR1, &info, &h, &r, &x);
        let f = setup_with_layout(&mem, &req, &l).expect("frame");
        let fp = mem.u64_at(f.addr + (OFF_MCONTEXT + sc::FPSTATE) as u64);
        mem.write(fp + 464, &0u32.to_ne_bytes()).expect("mapped");
        let mut at = f.regs;
        at.rsp += 8;
        let back = restore_with_layout(&mem, &at, &StackT::default(), &l).expect("restored");
        assert_eq!(get64(&back.xstate, XSAVE_HDR_BV), XFEATURE_FPSSE);
        assert_eq!(&back.xstate[FX_XMM..FX_XMM_END], &x[FX_XMM..FX_XMM_END]);
        assert!(back.xstate[576..576 + 256].iter().all(|&b| b == 0));
        // Reserved MXCSR bits make it a bad frame.
        mem.write(fp + 24, &0xffff_0000u32.to_ne_bytes())
            .expect("mapped");
        assert!(matches!(
            restore_with_layout(&mem, &at, &StackT::default(), &l),
            Err(SigreturnError::BadContext { .. })
        ));
    }

    #[test]
    fn alternate_stack() {
        let l = layout();
        let mem = FakeMem::new(BASE, LEN);
        let r = regs();
        let info = SigInfo::tkill(SIGUSR1, 3, 4);
        let h = handler(SA_SIGINFO | SA_ONSTACK);
        let x = image(&l);
        let alt = StackT {
            ss_sp: BASE + 0x1000,
            ss_flags: SS_AUTODISARM,
            __pad: 0,
            ss_size: 0x2000,
        };
        let req = FrameRequest {
            altstack: alt,
            ..request(SIGUSR1, &info, &h, &r, &x)
        };
        let f = setup_with_layout(&mem, &req, &l).expect("frame");
        assert!(altstack::within(&alt, f.regs.rsp));
        assert_eq!(f.altstack, altstack::DISABLED);
        // uc_stack holds the stack as it was (raw flags).
        let mut st = StackT::default();
        mem.read(f.addr + OFF_UC_STACK as u64, st.as_bytes_mut())
            .expect("mapped");
        assert_eq!(st, alt);
        // rt_sigreturn re-arms it.
        let mut at = f.regs;
        at.rsp += 8;
        let back = restore_with_layout(&mem, &at, &f.altstack, &l).expect("restored");
        assert_eq!(back.altstack, alt);
        // Too small a stack overflows.
        let tiny = StackT {
            ss_size: 0x400,
            ss_flags: 0,
            ..alt
        };
        let req = FrameRequest {
            altstack: tiny,
            ..req
        };
        assert_eq!(
            setup_with_layout(&mem, &req, &l).map(|_| ()),
            Err(FrameError::AltStackOverflow)
        );
    }

    #[test]
    fn unwritable_stack_and_missing_restorer() {
        let l = layout();
        let mem = FakeMem::new(BASE, LEN);
        let mut r = regs();
        r.rsp = BASE + 0x100; // the frame would start below BASE
        let info = SigInfo::tkill(SIGUSR1, 3, 4);
        let h = handler(0);
        let x = image(&l);
        let req = request(SIGUSR1, &info, &h, &r, &x);
        assert_eq!(
            setup_with_layout(&mem, &req, &l).map(|_| ()),
            Err(FrameError::Fault)
        );
        let r = regs();
        let h = Handler {
            flags: 0,
            ..handler(0)
        };
        let req = FrameRequest {
            regs: &r,
            handler: &h,
            ..req
        };
        assert_eq!(
            setup_with_layout(&mem, &req, &l).map(|_| ()),
            Err(FrameError::NoRestorer)
        );
    }

    #[test]
    fn host_layout_agrees_with_the_host_kernel() {
        let l = XstateLayout::get();
        assert!(l.frame_size <= l.ptrace_size);
        assert!(minsigstksz() >= l.max_frame_bytes());
        // SAFETY: getauxval takes and returns integers.
        let host = unsafe { libc::getauxval(libc::AT_MINSIGSTKSZ) };
        if host != 0 {
            assert!(
                host == l.kernel_minsigstksz(true) || host == l.kernel_minsigstksz(false),
                "AT_MINSIGSTKSZ {host} vs computed {} / {}",
                l.kernel_minsigstksz(true),
                l.kernel_minsigstksz(false)
            );
        }
    }
}
