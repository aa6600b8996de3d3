//! The task table: every process and thread by id, and the process tree.
//!
//! # Model
//!
//! One lock guards the whole tree: parent and children links, process
//! groups, sessions, zombies. Fork, exit, wait, setpgid and kill(-pgid) each
//! take it once, so they always see a consistent tree (Linux uses
//! `tasklist_lock` the same way). The hot paths — getpid, read, write, page
//! faults — never take it.
//!
//! - **Pids** are allocated sequentially, skipping any pid still in use as a
//!   process, thread, process group or session id, and wrap at `pid_max`
//!   (32768) back to 300, like `alloc_pid` (kernel/pid.c, `RESERVED_PIDS`).
//! - **Zombies**: a process that has ended keeps its node (and its status)
//!   until its parent reaps it with wait4/waitid, or at once when the parent
//!   ignores SIGCHLD or set `SA_NOCLDWAIT` (wait(2), "NOTES").
//! - **Orphans** go to the nearest living ancestor that is a child subreaper
//!   (`PR_SET_CHILD_SUBREAPER`), else to init (kernel/exit.c
//!   `find_new_reaper`); their `PR_SET_PDEATHSIG` signal fires.
//! - **`--max-tasks`** bounds live guest threads: past it fork and clone fail
//!   with `EAGAIN`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::{ExitStatus, Pid, Process, Thread};

/// `/proc/sys/kernel/pid_max` default.
pub const PID_MAX: Pid = 32768;
/// Where allocation wraps to (kernel/pid.c).
const RESERVED_PIDS: Pid = 300;

/// Default `--max-tasks`.
pub const DEFAULT_MAX_TASKS: usize = 4096;

/// A process in the tree.
#[derive(Debug)]
pub struct Node {
    pub process: Arc<Process>,
    pub ppid: Pid,
    pub pgid: Pid,
    pub sid: Pid,
    pub children: BTreeSet<Pid>,
    /// Set when the process has ended and waits to be reaped.
    pub zombie: Option<ExitStatus>,
    /// Whether the process has exec'd since fork (setpgid(2) `EACCES`).
    pub execed: bool,
    pub subreaper: bool,
}

/// The table proper, behind [`Tasks::lock`].
#[derive(Debug)]
pub struct Table {
    last_pid: Pid,
    pub procs: HashMap<Pid, Node>,
    pub threads: HashMap<Pid, Arc<Thread>>,
    max_tasks: usize,
}

/// Why a new task could not be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewTaskError {
    /// `--max-tasks` reached, or no free pid.
    TooMany,
}

impl Table {
    fn in_use(&self, pid: Pid) -> bool {
        self.procs.contains_key(&pid)
            || self.threads.contains_key(&pid)
            || self.procs.values().any(|n| n.pgid == pid || n.sid == pid)
    }

    /// Allocates a pid for a new thread or process.
    pub fn alloc_pid(&mut self) -> Result<Pid, NewTaskError> {
        if self.threads.len() >= self.max_tasks {
            return Err(NewTaskError::TooMany);
        }
        let mut pid = self.last_pid;
        for _ in 0..PID_MAX {
            pid += 1;
            if pid >= PID_MAX {
                pid = RESERVED_PIDS;
            }
            if !self.in_use(pid) {
                self.last_pid = pid;
                return Ok(pid);
            }
        }
        Err(NewTaskError::TooMany)
    }

    pub fn node(&self, pid: Pid) -> Option<&Node> {
        self.procs.get(&pid)
    }

    /// A living (not zombie) process.
    pub fn live(&self, pid: Pid) -> Option<&Node> {
        self.procs.get(&pid).filter(|n| n.zombie.is_none())
    }

    /// Pids of the living members of process group `pgid`.
    pub fn group(&self, pgid: Pid) -> Vec<Pid> {
        self.procs
            .iter()
            .filter(|(_, n)| n.pgid == pgid && n.zombie.is_none())
            .map(|(&p, _)| p)
            .collect()
    }

    /// Whether process group `pgid` is orphaned, or would be without
    /// `ignoring` (POSIX; kernel/exit.c `will_become_orphaned_pgrp`): no
    /// living member has a parent in another group of the same session.
    /// Members whose parent is init do not count as links.
    pub fn pgrp_orphaned(&self, pgid: Pid, ignoring: Option<Pid>) -> bool {
        !self.procs.iter().any(|(&pid, n)| {
            n.pgid == pgid
                && n.zombie.is_none()
                && Some(pid) != ignoring
                && n.ppid != 1
                && self
                    .procs
                    .get(&n.ppid)
                    .is_some_and(|pp| pp.pgid != pgid && pp.sid == n.sid)
        })
    }

    /// Whether a living member of group `pgid` is stopped
    /// (`has_stopped_jobs`).
    fn has_stopped_jobs(&self, pgid: Pid) -> bool {
        self.procs
            .values()
            .any(|n| n.pgid == pgid && n.zombie.is_none() && n.process.is_stopped())
    }

    /// The process that adopts `pid`'s children when it exits.
    fn reaper_for(&self, pid: Pid) -> Pid {
        let mut at = self.procs.get(&pid).map_or(0, |n| n.ppid);
        while at > 0 {
            match self.procs.get(&at) {
                Some(n) if n.subreaper && n.zombie.is_none() && at != pid => return at,
                Some(n) => at = n.ppid,
                None => break,
            }
        }
        1
    }
}

/// The task table and the condition variable wait4 sleeps on.
#[derive(Debug)]
pub struct Tasks {
    table: Mutex<Table>,
    /// Notified whenever a process becomes a zombie or changes parent.
    pub changed: Condvar,
    /// Live threads by tid again, under a lock of their own that nothing
    /// else is taken under: the scheduler's preemption kick looks threads
    /// up here while any other lock (this table's included) may be held.
    by_tid: Mutex<HashMap<Pid, Arc<Thread>>>,
}

/// What [`Tasks::exit_process`] tells the caller to do next.
#[derive(Debug, Default)]
pub struct ExitEffects {
    /// Send SIGCHLD (or the exit signal) to this parent.
    pub notify_parent: Option<Pid>,
    /// `PR_SET_PDEATHSIG` signals for the orphans: (pid, signal).
    pub pdeath: Vec<(Pid, i32)>,
    /// init itself ended: everything else must die.
    pub init_exited: bool,
    /// Process groups this exit orphaned that have stopped members: each
    /// gets SIGHUP then SIGCONT (POSIX; kernel/exit.c `kill_orphaned_pgrp`).
    pub hup_groups: Vec<Pid>,
}

impl Tasks {
    pub fn new(max_tasks: usize) -> Tasks {
        Tasks {
            table: Mutex::new(Table {
                last_pid: 0,
                procs: HashMap::new(),
                threads: HashMap::new(),
                max_tasks,
            }),
            changed: Condvar::new(),
            by_tid: Mutex::new(HashMap::new()),
        }
    }

    /// The thread `tid`, from the leaf-locked index (see `by_tid`).
    pub fn thread_for_kick(&self, tid: Pid) -> Option<Arc<Thread>> {
        self.by_tid.lock().get(&tid).cloned()
    }

    pub fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock()
    }

    pub fn thread(&self, tid: Pid) -> Option<Arc<Thread>> {
        self.table.lock().threads.get(&tid).cloned()
    }

    pub fn process(&self, pid: Pid) -> Option<Arc<Process>> {
        self.table.lock().live(pid).map(|n| n.process.clone())
    }

    /// Every live process.
    pub fn processes(&self) -> Vec<Arc<Process>> {
        let t = self.table.lock();
        t.procs
            .values()
            .filter(|n| n.zombie.is_none())
            .map(|n| n.process.clone())
            .collect()
    }

    /// Records a new process (with its first thread already allocated a pid
    /// equal to the process's) as a child of `ppid` in `ppid`'s group and
    /// session (or as init when `ppid` is 0).
    pub fn add_process(t: &mut Table, process: Arc<Process>, ppid: Pid) {
        let pid = process.pid;
        let (pgid, sid) = match t.procs.get_mut(&ppid) {
            Some(p) => {
                p.children.insert(pid);
                (p.pgid, p.sid)
            }
            None => (pid, pid),
        };
        t.procs.insert(
            pid,
            Node {
                process,
                ppid,
                pgid,
                sid,
                children: BTreeSet::new(),
                zombie: None,
                execed: false,
                subreaper: false,
            },
        );
    }

    /// Adds a new thread; false (nothing added) if its process has begun
    /// to exit. `Process::begin_exit` kills the threads it finds in the
    /// list after marking the exit, and the check and the push happen under
    /// the list's lock: a thread is either killed or never added (Linux
    /// `copy_process` fails when the group is exiting).
    #[must_use]
    pub fn add_thread(&self, t: &mut Table, thread: Arc<Thread>) -> bool {
        {
            let mut threads = thread.process.threads.lock();
            if thread.process.exiting().is_some() {
                return false;
            }
            threads.push(thread.clone());
        }
        self.by_tid.lock().insert(thread.tid, thread.clone());
        t.threads.insert(thread.tid, thread);
        true
    }

    /// Puts `new` in `old`'s place everywhere (an execve from a thread
    /// that is not the leader: it takes over the leader's tid).
    pub fn replace_thread(&self, old: &Arc<Thread>, new: Arc<Thread>) {
        let mut t = self.table.lock();
        t.threads.remove(&old.tid);
        t.threads.insert(new.tid, new.clone());
        {
            let mut by = self.by_tid.lock();
            by.remove(&old.tid);
            by.insert(new.tid, new.clone());
        }
        let process = new.process.clone();
        let mut threads = process.threads.lock();
        threads.retain(|x| !Arc::ptr_eq(x, old));
        threads.push(new);
    }

    /// Removes an ended thread; true if it was its process's last.
    pub fn remove_thread(&self, thread: &Thread) -> bool {
        let mut t = self.table.lock();
        t.threads.remove(&thread.tid);
        self.by_tid.lock().remove(&thread.tid);
        let mut threads = thread.process.threads.lock();
        threads.retain(|x| x.tid != thread.tid);
        threads.is_empty()
    }

    /// Turns ended process `pid` into a zombie (or reaps it at once when its
    /// parent does not want to wait), hands its children to their new
    /// reaper, and says whom to signal.
    pub fn exit_process(&self, pid: Pid, status: ExitStatus) -> ExitEffects {
        let mut fx = ExitEffects::default();
        let mut t = self.table.lock();
        let Some(node) = t.procs.get_mut(&pid) else {
            return fx;
        };
        node.zombie = Some(status);
        let children = std::mem::take(&mut node.children);
        let ppid = node.ppid;
        let (my_pgid, my_sid) = (node.pgid, node.sid);
        fx.init_exited = pid == 1;
        let reaper = t.reaper_for(pid);
        let children_v: Vec<Pid> = children.iter().copied().collect();
        for c in children {
            let Some(cn) = t.procs.get_mut(&c) else {
                continue;
            };
            cn.ppid = reaper;
            let sig = *cn.process.pdeathsig.lock();
            let zombie = cn.zombie.is_some();
            if sig != 0 && !zombie {
                fx.pdeath.push((c, sig));
            }
            if let Some(r) = t.procs.get_mut(&reaper) {
                r.children.insert(c);
            }
        }
        // Orphaned process groups (exit_notify → kill_orphaned_pgrp): our
        // own group, if our parent was its last link outside; and each
        // child's group, if we were.
        let mut hup = Vec::new();
        if let Some(pp) = t.procs.get(&ppid) {
            if pp.pgid != my_pgid
                && pp.sid == my_sid
                && t.pgrp_orphaned(my_pgid, Some(pid))
                && t.has_stopped_jobs(my_pgid)
            {
                hup.push(my_pgid);
            }
        }
        for c in children_v {
            let Some(cn) = t.procs.get(&c) else { continue };
            let g = cn.pgid;
            if g != my_pgid
                && cn.sid == my_sid
                && !hup.contains(&g)
                && t.pgrp_orphaned(g, None)
                && t.has_stopped_jobs(g)
            {
                hup.push(g);
            }
        }
        fx.hup_groups = hup;
        // The parent reaps at once if it ignores SIGCHLD or set
        // SA_NOCLDWAIT (sigaction(2)); otherwise it is told.
        let auto_reap = match t.procs.get(&ppid) {
            Some(p) => {
                let act = p.process.sigactions.lock()[libc::SIGCHLD as usize - 1];
                act.sa_handler == libc::SIG_IGN as u64
                    || act.sa_flags & libc::SA_NOCLDWAIT as u64 != 0
            }
            None => true,
        };
        if auto_reap && pid != 1 {
            t.procs.remove(&pid);
            if let Some(p) = t.procs.get_mut(&ppid) {
                p.children.remove(&pid);
            }
        } else {
            fx.notify_parent = Some(ppid);
        }
        drop(t);
        self.changed.notify_all();
        fx
    }

    /// Whether the process group of `pid` is orphaned (stop signals from
    /// the terminal are then discarded).
    pub fn pgrp_orphaned_of(&self, pid: Pid) -> bool {
        let t = self.table.lock();
        t.node(pid).is_some_and(|n| t.pgrp_orphaned(n.pgid, None))
    }

    /// Removes zombie `pid` (reaped by its parent).
    pub fn reap(t: &mut Table, pid: Pid) {
        if let Some(n) = t.procs.remove(&pid) {
            if let Some(p) = t.procs.get_mut(&n.ppid) {
                p.children.remove(&pid);
            }
        }
    }
}
