// arch/context_aarch64.S — see context.hpp. AAPCS64: callee-saved x19-x29,
// lr (x30), d8-d15; x0=save_sp x1=next_sp x2=transfer. Frame layout must match
// ctx_make (x19 at [sp], x30 at [sp+88]).
#if defined(__aarch64__)
        .text
        .globl  gmp_ctx_switch
        .type   gmp_ctx_switch, %function
        .p2align 4
gmp_ctx_switch:
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        mov     x0, x2
        ret
        .size   gmp_ctx_switch, .-gmp_ctx_switch

        .globl  gmp_ctx_trampoline
        .type   gmp_ctx_trampoline, %function
        .p2align 4
gmp_ctx_trampoline:
        blr     x19
        brk     #0
        .size   gmp_ctx_trampoline, .-gmp_ctx_trampoline
#endif
        .section .note.GNU-stack,"",%progbits
