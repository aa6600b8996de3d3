/*
 * The umk stub: the host process that holds one guest address space.
 *
 * umk execs this freestanding program (no libc) with the frames memfd on fd 3.
 * It owns nothing but its own image at the top of the user address space:
 * on start it moves to its private stack, names itself, moves the kernel's
 * vDSO (with the vvar pages before it) to `vdso_block` above its image (the
 * guests' vDSO: clock_gettime and friends without a trap; umk writes the
 * sizes into `vdso_layout` before it starts any stub, and checks the result),
 * unmaps every other host mapping (the kernel's stack, the rest), and stops
 * itself with SIGSTOP. From then on the thread that seizes it with ptrace drives it:
 *
 *   stub_syscall  - one injected host syscall: `syscall; int3`.
 *   stub_clone    - clone a new host thread for a new guest thread (rdi =
 *                   clone flags, with CLONE_UNTRACED). The parent returns
 *                   through `int3`; the child waits in `pause` until its own
 *                   umk kernel thread seizes it and gives it guest registers.
 *   stub_exit_thread - a detached thread ends here (exit of one host thread).
 *   stub_park     - a detached thread waits here, in `pause`, untraced, until
 *                   a kernel thread seizes it again: the last host thread of
 *                   a finished address space, kept so that the stub can be
 *                   reused (see platform/pool.rs).
 *   stub_spawn_control - clone the control thread (rsi = its stack, r15 =
 *                   its mailbox page). The control thread serves umk's
 *                   requests to change this address space while guest threads
 *                   run (copy-on-write remaps from the fault thread): it
 *                   waits on the mailbox's `req` futex, runs the ops that
 *                   follow (8 words each: nr, six arguments, result; it stops
 *                   at the first error or the end marker, as User-Mode
 *                   Linux's stub batches), publishes `done` and wakes umk.
 *                   Mailbox: u32 req at 0, u32 done at 4, ops from byte 64.
 *                   The nr word holds the syscall number in its low 32 bits
 *                   and flags above, so that a file can be opened, mapped
 *                   and closed in one request: OP_SAVE keeps the op's result
 *                   (in r12, kept across requests), OP_FD_R8 and OP_FD_RDI
 *                   pass the kept result as the fifth or first argument.
 *
 * The stub ignores the host signal umk uses to kick a running guest thread
 * (SIGKICK below): a traced thread still reports it to its tracer (ignored
 * signals are reported under ptrace), while the untraced control thread and
 * a thread on its way out are never killed by a late kick.
 *
 * Guest code never runs here, and the stub makes no host syscall of its own
 * after the SIGSTOP except in the control thread.
 */
    .set SYS_munmap, 11
    .set SYS_mremap, 25
    .set AT_SYSINFO_EHDR, 33
    .set MREMAP_MAYMOVE_FIXED, 3
    /* The vDSO block's place above the image (platform/vdso.rs): image end
     * + VDSO_GAP, with VDSO_WINDOW bytes kept for it. */
    .set VDSO_GAP, 0x200000
    .set VDSO_WINDOW, 0x100000
    .set SYS_rt_sigaction, 13
    .set SYS_pause, 34
    .set SYS_clone, 56
    .set SYS_exit, 60
    .set SYS_futex, 202
    .set SIGKICK, 63
    .set SYS_getpid, 39
    .set SYS_kill, 62
    .set SYS_prctl, 157
    .set PR_SET_NAME, 15
    .set SIGSTOP, 19
    /* Control-op flags: bit numbers in the nr word (mm/hostop.rs). */
    .set OP_SAVE, 32
    .set OP_FD_R8, 33
    .set OP_FD_RDI, 34
    .set TASK_SIZE, 0x7ffffffff000

    .text
    .globl _start
_start:
    mov %rsp, %rbx      /* the kernel's stack: argc, argv, envp, auxv */
    lea stub_stack_top(%rip), %rsp
    mov $SYS_prctl, %eax
    mov $PR_SET_NAME, %edi
    lea stub_name(%rip), %rsi
    syscall
    /* Find AT_SYSINFO_EHDR: past argv (argc + 1 words after argc) and
     * envp (up to its NULL). */
    mov (%rbx), %rcx
    lea 16(%rbx,%rcx,8), %rdx
1:  mov (%rdx), %rax
    add $8, %rdx
    test %rax, %rax
    jnz 1b
2:  mov (%rdx), %rax
    test %rax, %rax
    jz 4f               /* AT_NULL: no vDSO */
    cmp $AT_SYSINFO_EHDR, %rax
    je 3f
    add $16, %rdx
    jmp 2b
3:  mov vdso_layout+8(%rip), %rsi   /* the block's size */
    test %rsi, %rsi
    jz 4f
    mov 8(%rdx), %rdi
    sub vdso_layout(%rip), %rdi     /* the block starts this far before */
    mov %rsi, %rdx
    mov $MREMAP_MAYMOVE_FIXED, %r10d
    movabs $_end, %r8
    add $0xfff, %r8
    and $~0xfff, %r8
    add $VDSO_GAP, %r8
    mov $SYS_mremap, %eax
    syscall
4:
    /* Everything below the image... */
    mov $SYS_munmap, %eax
    xor %edi, %edi
    movabs $__executable_start, %rsi
    syscall
    /* ...and everything above it but the vDSO's window. */
    mov $SYS_munmap, %eax
    movabs $_end, %rdi
    add $0xfff, %rdi
    and $~0xfff, %rdi
    mov $VDSO_GAP, %esi
    syscall
    mov $SYS_munmap, %eax
    movabs $_end, %rdi
    add $0xfff, %rdi
    and $~0xfff, %rdi
    add $(VDSO_GAP + VDSO_WINDOW), %rdi
    movabs $TASK_SIZE, %rsi
    sub %rdi, %rsi
    syscall
    /* Ignore SIGKICK (see above). */
    mov $SYS_rt_sigaction, %eax
    mov $SIGKICK, %edi
    lea kick_action(%rip), %rsi
    xor %edx, %edx
    mov $8, %r10d
    syscall
    mov $SYS_getpid, %eax
    syscall
    mov %eax, %edi
    mov $SIGSTOP, %esi
    mov $SYS_kill, %eax
    syscall
    /* Only a tracer moves us on from here (by setting rip). */
1:  int3
    jmp 1b

    .globl stub_syscall
stub_syscall:
    syscall
    int3
    ud2

    .globl stub_clone
stub_clone:
    mov $SYS_clone, %eax
    xor %esi, %esi
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    syscall
    test %rax, %rax
    jz stub_park
    int3
    ud2
    /* The new thread touches no memory: it has no stack of its own yet. */
    .globl stub_park
stub_park:
    mov $SYS_pause, %eax
    syscall
    jmp stub_park

    .globl stub_exit_thread
stub_exit_thread:
    mov $SYS_exit, %eax
    xor %edi, %edi
    syscall
    ud2

    .globl stub_spawn_control
stub_spawn_control:
    mov $SYS_clone, %eax
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    syscall
    test %rax, %rax
    jz control_loop
    int3
    ud2

control_loop:
    mov (%r15), %eax
    cmp 4(%r15), %eax
    jne 3f
    /* futex(&req, FUTEX_WAIT, req, NULL): shared, the page is a memfd frame */
    mov %eax, %edx
    mov %r15, %rdi
    xor %esi, %esi
    xor %r10d, %r10d
    mov $SYS_futex, %eax
    syscall
    jmp control_loop
3:  mov %eax, %r14d
    lea 64(%r15), %r13
4:  mov (%r13), %rbx
    cmp $-1, %rbx
    je 5f
    mov 8(%r13), %rdi
    mov 16(%r13), %rsi
    mov 24(%r13), %rdx
    mov 32(%r13), %r10
    mov 40(%r13), %r8
    mov 48(%r13), %r9
    /* Flags above the syscall number (see the note at the top). */
    bt $OP_FD_R8, %rbx
    jnc 6f
    mov %r12, %r8
6:  bt $OP_FD_RDI, %rbx
    jnc 7f
    mov %r12, %rdi
7:  mov %ebx, %eax
    syscall
    mov %rax, 56(%r13)
    bt $OP_SAVE, %rbx
    jnc 8f
    mov %rax, %r12
8:  cmp $-4095, %rax
    jae 5f
    add $64, %r13
    jmp 4b
5:  mov %r14d, 4(%r15)
    /* futex(&done, FUTEX_WAKE, 1) */
    lea 4(%r15), %rdi
    mov $1, %esi
    mov $1, %edx
    mov $SYS_futex, %eax
    syscall
    jmp control_loop

    .section .rodata
    .balign 8
kick_action:
    .quad 1     /* SIG_IGN */
    .quad 0     /* flags */
    .quad 0     /* restorer */
    .quad 0     /* mask */
stub_name:
    .asciz "umk-stub"
    /* Bytes of vvar pages before the vDSO, and the whole block's size:
     * written into the image by umk (platform/vdso.rs); zero: no vDSO. */
    .balign 8
    .globl vdso_layout
vdso_layout:
    .quad 0
    .quad 0

    .bss
    .balign 4096
stub_stack:
    .skip 65536
stub_stack_top:
    .globl control_stack_top
control_stack:
    .skip 16384
control_stack_top:

    .section .note.GNU-stack,"",@progbits
