//! The stub image and the spawner thread that starts stub processes.
//!
//! The stub (`stub/stub.S`, built by `build.rs`) is embedded in umk. At boot
//! umk copies it into a sealed memfd and reads the addresses of its entry
//! points from its symbol table, so nothing about its layout is duplicated
//! here.
//!
//! Stubs are started by one long-lived **spawner thread**: a stub has
//! `PR_SET_PDEATHSIG(SIGKILL)`, and the "parent" whose death fires it is the
//! *thread* that forked it. Kernel threads come and go with guest threads;
//! the spawner lives as long as umk, so a stub dies exactly when umk does.
//! The spawner is also the keeper of the stub pool ([`super::pool`]).

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::{Arc, OnceLock};

use goblin::elf::Elf;

use super::pool::{ReadyStub, StubPool};
use super::PlatformError;
use crate::mm::hostop::STUB_FRAMES_FD;

static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/umk-stub"));

#[derive(Debug, thiserror::Error)]
pub enum StubError {
    #[error("stub image: {0}")]
    Image(String),
    #[error("starting a stub: {0}")]
    Spawn(std::io::Error),
    #[error("stub exited during start-up (wait status {0:#x})")]
    Died(i32),
}

/// Addresses inside the stub's image (the top of the user address space).
#[derive(Clone, Copy, Debug)]
pub struct StubLayout {
    /// Start of the stub's region; guests may use everything below.
    pub base: u64,
    /// End of the stub's image (page aligned).
    pub image_end: u64,
    /// `syscall; int3`.
    pub syscall_insn: u64,
    /// `clone` of a new host thread that waits to be seized.
    pub clone: u64,
    /// `exit` of one host thread.
    pub exit_thread: u64,
    /// `pause` loop of a detached thread kept for reuse.
    pub park: u64,
    /// `clone` of the control thread (rsi = stack, r15 = mailbox).
    pub spawn_control: u64,
    /// Top of the control thread's stack.
    pub control_stack_top: u64,
    /// Where the control thread's mailbox page is mapped.
    pub mailbox_page: u64,
}

impl StubLayout {
    fn parse() -> Result<StubLayout, StubError> {
        let elf = Elf::parse(IMAGE).map_err(|e| StubError::Image(e.to_string()))?;
        let sym = |name: &str| symbol(&elf, name);
        let base = sym("__executable_start")?;
        let image_end = (sym("_end")? + 0xfff) & !0xfff;
        Ok(StubLayout {
            base,
            image_end,
            syscall_insn: sym("stub_syscall")?,
            clone: sym("stub_clone")?,
            exit_thread: sym("stub_exit_thread")?,
            park: sym("stub_park")?,
            spawn_control: sym("stub_spawn_control")?,
            control_stack_top: sym("control_stack_top")?,
            // Above the image, clear of it.
            mailbox_page: image_end + 0x10_0000,
        })
    }
}

/// The address of symbol `name` in the stub image.
fn symbol(elf: &Elf<'_>, name: &str) -> Result<u64, StubError> {
    elf.syms
        .iter()
        .find(|s| elf.strtab.get_at(s.st_name) == Some(name))
        .map(|s| s.st_value)
        .ok_or_else(|| StubError::Image(format!("no symbol {name}")))
}

/// The stub's layout (parsed once from the embedded image).
pub fn layout() -> Result<StubLayout, StubError> {
    static L: OnceLock<Result<StubLayout, String>> = OnceLock::new();
    L.get_or_init(|| StubLayout::parse().map_err(|e| e.to_string()))
        .clone()
        .map_err(StubError::Image)
}

/// Starts the spawner thread, which keeps `pool` filled (see
/// [`super::pool`]): it spawns stubs and hands each one, stopped, to
/// `prepare`. `frames` is the frames memfd that every stub receives as fd 3.
pub fn start_keeper(
    frames: BorrowedFd<'_>,
    pool: Arc<StubPool>,
    mut prepare: impl FnMut(i32) -> Result<ReadyStub, PlatformError> + Send + 'static,
) -> Result<(), StubError> {
    let exe = stub_memfd()?;
    // Keep both descriptors clear of 0..=3, which the child rearranges.
    let frames = dup_high(frames)?;
    let exe = dup_high(exe.as_fd())?;
    std::thread::Builder::new()
        .name("umk-spawner".into())
        .spawn(move || {
            crate::hostsched::set_batch();
            pool.keep(|| prepare(spawn_one(&exe, &frames)?));
            // This thread must outlive every stub (their parent-death
            // signal is tied to it): it never returns while umk runs.
            loop {
                std::thread::park();
            }
        })
        .map_err(StubError::Spawn)?;
    Ok(())
}

fn dup_high(fd: BorrowedFd<'_>) -> Result<OwnedFd, StubError> {
    // SAFETY: F_DUPFD_CLOEXEC on a valid descriptor returns a new descriptor
    // that we then own exclusively.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if r < 0 {
        return Err(StubError::Spawn(std::io::Error::last_os_error()));
    }
    // SAFETY: `r` is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

fn stub_memfd() -> Result<OwnedFd, StubError> {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    let fd = memfd_create(
        c"umk-stub",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )
    .map_err(|e| StubError::Spawn(e.into()))?;
    let image = with_vdso_layout(IMAGE)?;
    let mut off = 0;
    while off < image.len() {
        off += nix::unistd::write(&fd, &image[off..]).map_err(|e| StubError::Spawn(e.into()))?;
    }
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: F_ADD_SEALS on our own memfd; no memory is involved.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) };
    Ok(fd)
}

/// The stub image with this host's vDSO block sizes in `vdso_layout`
/// (see `vdso.rs`); unchanged (no vDSO for guests) without a vDSO.
fn with_vdso_layout(image: &[u8]) -> Result<Vec<u8>, StubError> {
    let mut out = image.to_vec();
    let Some(l) = super::vdso::host_layout() else {
        return Ok(out);
    };
    let elf = Elf::parse(image).map_err(|e| StubError::Image(e.to_string()))?;
    let at = symbol(&elf, "vdso_layout")?;
    let off = elf
        .program_headers
        .iter()
        .find(|p| {
            p.p_type == goblin::elf::program_header::PT_LOAD
                && (p.p_vaddr..p.p_vaddr + p.p_filesz).contains(&at)
        })
        .map(|p| (at - p.p_vaddr + p.p_offset) as usize)
        .ok_or_else(|| StubError::Image("vdso_layout outside the file".into()))?;
    let slot = out
        .get_mut(off..off + 16)
        .ok_or_else(|| StubError::Image("vdso_layout outside the file".into()))?;
    slot[..8].copy_from_slice(&l.before.to_le_bytes());
    slot[8..].copy_from_slice(&l.total.to_le_bytes());
    Ok(out)
}

/// What the vfork'ed child needs, prepared before the clone so the child
/// only makes raw syscalls.
struct ChildArgs {
    exe: i32,
    frames: i32,
    parent: i32,
    argv: [*const libc::c_char; 2],
    envp: [*const libc::c_char; 1],
}

const STUB_NAME: &CStr = c"umk-stub";

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` points at the `ChildArgs` the parent keeps alive until
    // this child has exec'd or exited (CLONE_VFORK suspends the parent).
    let a = unsafe { &*(arg as *const ChildArgs) };
    // SAFETY: only raw syscalls on plain integers and on pointers into
    // `ChildArgs` and static strings; nothing here allocates or takes locks
    // (the child shares the parent's memory).
    unsafe {
        libc::syscall(libc::SYS_prctl, libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::syscall(libc::SYS_getppid) as i32 != a.parent {
            libc::syscall(libc::SYS_exit_group, 1);
        }
        libc::syscall(libc::SYS_personality, libc::ADDR_NO_RANDOMIZE);
        // The spawner thread is in SCHED_BATCH (`start_keeper`); guests
        // are scheduled like any other program.
        let param = libc::sched_param { sched_priority: 0 };
        libc::syscall(
            libc::SYS_sched_setscheduler,
            0,
            libc::SCHED_OTHER,
            &param as *const libc::sched_param,
        );
        let empty: u64 = 0;
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty as *const u64,
            0,
            8,
        );
        libc::syscall(libc::SYS_dup2, a.frames, STUB_FRAMES_FD as i32);
        for fd in 0..3 {
            libc::syscall(libc::SYS_close, fd);
        }
        libc::syscall(
            libc::SYS_close_range,
            STUB_FRAMES_FD + 1,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
        libc::syscall(
            libc::SYS_execveat,
            a.exe,
            c"".as_ptr(),
            a.argv.as_ptr(),
            a.envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
        libc::syscall(libc::SYS_exit_group, 127);
    }
    127
}

fn spawn_one(exe: &OwnedFd, frames: &OwnedFd) -> Result<i32, StubError> {
    let args = ChildArgs {
        exe: exe.as_raw_fd(),
        frames: frames.as_raw_fd(),
        parent: std::process::id() as i32,
        argv: [STUB_NAME.as_ptr(), std::ptr::null()],
        envp: [std::ptr::null()],
    };
    let mut stack = vec![0u8; 64 * 1024];
    // SAFETY: the stack pointer is 16-byte aligned and lies in `stack`.
    let top = unsafe { stack.as_mut_ptr().add(stack.len()) } as usize & !15;
    // SAFETY: CLONE_VM|CLONE_VFORK: the child runs `child_main` on `stack`
    // while this thread is suspended until it execs or exits, so `args` and
    // `stack` outlive every use by the child.
    let pid = unsafe {
        libc::clone(
            child_main,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            &args as *const ChildArgs as *mut libc::c_void,
        )
    };
    if pid < 0 {
        return Err(StubError::Spawn(std::io::Error::last_os_error()));
    }
    drop(stack);
    // Wait for the stub's own SIGSTOP (or its death).
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child; `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED | libc::__WALL) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(StubError::Spawn(e));
        }
        if libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGSTOP {
            return Ok(pid);
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Err(StubError::Died(status));
        }
    }
}
