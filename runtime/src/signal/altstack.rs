//! The alternate signal stack: sigaltstack(2) semantics shared by the
//! syscall, frame setup and rt_sigreturn (kernel/signal.c
//! `do_sigaltstack`, `on_sig_stack`, `sas_ss_flags`).
//!
//! A thread's stack is kept as Linux keeps `sas_ss_sp`/`sas_ss_size`/
//! `sas_ss_flags`: `ss_flags` holds the flags *as the guest passed them*
//! (SS_AUTODISARM included), and a zero `ss_size` means "disabled" (umk's
//! threads start zeroed; Linux starts them at SS_DISABLE: [`normalized`]
//! reports them the same way).

use guest_abi::signal::{MINSIGSTKSZ, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
use guest_abi::structs::StackT;

use crate::error::SysResult;
use crate::sys_err;

/// The flags bits that are not a mode (`SS_FLAG_BITS`).
const SS_FLAG_BITS: i32 = SS_AUTODISARM;

/// Whether `sp` lies in the stack (`__on_sig_stack`: `sp > base && sp -
/// base <= size`: the stack grows down, so its top address counts as on it).
pub fn within(st: &StackT, sp: u64) -> bool {
    sp > st.ss_sp && sp.wrapping_sub(st.ss_sp) <= st.ss_size
}

/// `on_sig_stack`: never true with SS_AUTODISARM (the stack was disarmed on
/// entry, so a nested signal may use it afresh).
pub fn on_stack(st: &StackT, sp: u64) -> bool {
    st.ss_flags & SS_AUTODISARM == 0 && within(st, sp)
}

/// `sas_ss_flags`: SS_DISABLE, SS_ONSTACK or 0 for a stack pointer `sp`.
pub fn mode(st: &StackT, sp: u64) -> i32 {
    if st.ss_size == 0 {
        SS_DISABLE
    } else if on_stack(st, sp) {
        SS_ONSTACK
    } else {
        0
    }
}

/// The stack as Linux stores a disabled one (`sas_ss_reset`).
pub const DISABLED: StackT = StackT {
    ss_sp: 0,
    ss_flags: SS_DISABLE,
    __pad: 0,
    ss_size: 0,
};

/// The stored stack with a disabled one spelled as Linux spells it (what
/// a signal frame's `uc_stack` holds: the raw `sas_ss_*` fields).
pub fn normalized(st: &StackT) -> StackT {
    if st.ss_size == 0 {
        DISABLED
    } else {
        StackT { __pad: 0, ..*st }
    }
}

/// What sigaltstack(2) reports as the old stack at stack pointer `sp`.
pub fn report(st: &StackT, sp: u64) -> StackT {
    let n = normalized(st);
    StackT {
        ss_sp: n.ss_sp,
        ss_flags: mode(st, sp) | (st.ss_flags & SS_FLAG_BITS),
        __pad: 0,
        ss_size: n.ss_size,
    }
}

/// sigaltstack(2) with a new stack (`do_sigaltstack`): EPERM while running
/// on the current stack, EINVAL for a bad mode, ENOMEM below MINSIGSTKSZ
/// (2048: Linux checks the uapi constant; the frame-size check
/// `sigaltstack_size_valid` only applies once AMX is permitted).
pub fn set(cur: &mut StackT, new: &StackT, sp: u64) -> SysResult<()> {
    if on_stack(cur, sp) {
        return sys_err!(EPERM, "on the alternate stack");
    }
    let mode = new.ss_flags & !SS_FLAG_BITS;
    if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
        return sys_err!(EINVAL, "bad ss_flags");
    }
    // "Return before taking any locks if no actual sigaltstack changes
    // were requested."
    if normalized(cur) == (StackT { __pad: 0, ..*new }) {
        return Ok(());
    }
    if mode == SS_DISABLE {
        *cur = StackT {
            ss_flags: new.ss_flags,
            ..DISABLED
        };
        return Ok(());
    }
    if new.ss_size < MINSIGSTKSZ {
        return sys_err!(ENOMEM, "stack smaller than MINSIGSTKSZ");
    }
    *cur = StackT { __pad: 0, ..*new };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let mut st = StackT::default();
        assert_eq!(report(&st, 0x1000).ss_flags, SS_DISABLE);
        let new = StackT {
            ss_sp: 0x10000,
            ss_flags: 0,
            __pad: 0,
            ss_size: 0x4000,
        };
        set(&mut st, &new, 0x7000_0000).expect("valid");
        assert_eq!(mode(&st, 0x14000), SS_ONSTACK);
        assert_eq!(mode(&st, 0x10000), 0);
        assert_eq!(
            set(&mut st, &new, 0x12000).map_err(|e| e.errno),
            Err(guest_abi::Errno::EPERM)
        );
        let small = StackT {
            ss_size: 100,
            ..new
        };
        assert!(set(&mut st, &small, 0).is_err());
        let auto = StackT {
            ss_flags: SS_AUTODISARM,
            ..new
        };
        set(&mut st, &auto, 0).expect("valid");
        assert_eq!(report(&st, 0x12000).ss_flags, SS_AUTODISARM);
    }
}
