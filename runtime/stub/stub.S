/*
 * The umk stub: the host process that holds one guest address space.
 *
 * umk execs this freestanding program (no libc) with the frames memfd on fd 3.
 * It owns nothing but its own image at the top of the user address space:
 * on start it moves to its private stack, names itself, unmaps every other
 * host mapping (the kernel's stack, vDSO, vvar), and stops itself with
 * SIGSTOP. From then on the thread that seizes it with ptrace drives it:
 *
 *   stub_syscall  - one injected host syscall: `syscall; int3`.
 *   stub_batch    - run a list of host syscalls from a shared command page
 *                   (r15 = first op), stopping at the first error or the end
 *                   marker, then `int3`. An op is 8 words: nr, six arguments,
 *                   result. User-Mode Linux's stub batches the same way.
 *
 * Guest code never runs here, and the stub makes no host syscall of its own
 * after the SIGSTOP.
 */
    .set SYS_munmap, 11
    .set SYS_getpid, 39
    .set SYS_kill, 62
    .set SYS_prctl, 157
    .set PR_SET_NAME, 15
    .set SIGSTOP, 19
    .set TASK_SIZE, 0x7ffffffff000

    .text
    .globl _start
_start:
    lea stub_stack_top(%rip), %rsp
    mov $SYS_prctl, %eax
    mov $PR_SET_NAME, %edi
    lea stub_name(%rip), %rsi
    syscall
    /* Everything below the image... */
    mov $SYS_munmap, %eax
    xor %edi, %edi
    movabs $__executable_start, %rsi
    syscall
    /* ...and everything above it. */
    mov $SYS_munmap, %eax
    movabs $_end, %rdi
    add $0xfff, %rdi
    and $~0xfff, %rdi
    movabs $TASK_SIZE, %rsi
    sub %rdi, %rsi
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

    .globl stub_batch
stub_batch:
1:  mov (%r15), %rax
    cmp $-1, %rax
    je 2f
    mov 8(%r15), %rdi
    mov 16(%r15), %rsi
    mov 24(%r15), %rdx
    mov 32(%r15), %r10
    mov 40(%r15), %r8
    mov 48(%r15), %r9
    syscall
    mov %rax, 56(%r15)
    cmp $-4095, %rax
    jae 2f
    add $64, %r15
    jmp 1b
2:  int3
    ud2

    .section .rodata
stub_name:
    .asciz "umk-stub"

    .bss
    .balign 4096
stub_stack:
    .skip 65536
stub_stack_top:

    .section .note.GNU-stack,"",@progbits
