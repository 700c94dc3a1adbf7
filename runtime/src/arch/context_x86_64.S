// arch/context_x86_64.S — see context.hpp. System V x86-64 ABI:
// callee-saved rbx rbp r12-r15; rdi=save_sp rsi=next_sp rdx=transfer.
#if defined(__x86_64__)
        .text
        .globl  gmp_ctx_switch
        .type   gmp_ctx_switch, @function
        .p2align 4
gmp_ctx_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        movq    %rdx, %rax
        ret
        .cfi_endproc
        .size   gmp_ctx_switch, .-gmp_ctx_switch

// First instructions of a fresh context: entry (in r12) gets the transfer
// value (in rax). The stack is 16-byte aligned here, so the call is ABI-aligned.
        .globl  gmp_ctx_trampoline
        .type   gmp_ctx_trampoline, @function
        .p2align 4
gmp_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        movq    %rax, %rdi
        callq   *%r12
        ud2
        .cfi_endproc
        .size   gmp_ctx_trampoline, .-gmp_ctx_trampoline
#endif
        .section .note.GNU-stack,"",%progbits
