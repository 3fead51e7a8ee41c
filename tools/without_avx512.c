/* An LD_PRELOAD shim (tools/without_avx512.sh builds and uses it): the process sees its CPU without AVX-512 and
 * without AVX-VNNI, as an AVX2 laptop is, so onnxruntime, NumPy and OpenCV pick their AVX2 kernels. CPUID is made to
 * fault (arch_prctl ARCH_SET_CPUID: Linux, on CPUs that list cpuid_fault) and the fault handler answers it with
 * those feature bits cleared. Leaf 7 subleaf 0: EBX AVX512F, DQ, IFMA, PF, ER, CD, BW, VL; ECX AVX512_VBMI,
 * VBMI2, VNNI, BITALG, VPOPCNTDQ; EDX AVX512_4VNNIW, 4FMAPS, VP2INTERSECT, FP16. Subleaf 1: EAX AVX-VNNI, BF16.
 * A fault that is not CPUID gets the default action. Not under a SIGSEGV handler of its own (pytest's
 * faulthandler): for benches. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static int cpuid_enabled(int on) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, on); }

static void answer(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    greg_t *r = uc->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)r[REG_RIP];
    (void)info;
    if (ip[0] != 0x0f || ip[1] != 0xa2) { signal(sig, SIG_DFL); return; }
    unsigned leaf = (unsigned)r[REG_RAX], sub = (unsigned)r[REG_RCX], a, b, c, d;
    cpuid_enabled(1);
    __cpuid_count(leaf, sub, a, b, c, d);
    cpuid_enabled(0);
    if (leaf == 7 && sub == 0) {
        b &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
        c &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        d &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 23));
    } else if (leaf == 7 && sub == 1) {
        a &= ~((1u << 4) | (1u << 5));
    }
    r[REG_RAX] = a; r[REG_RBX] = b; r[REG_RCX] = c; r[REG_RDX] = d;
    r[REG_RIP] += 2;
}

__attribute__((constructor)) static void mask(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = answer;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    cpuid_enabled(0);
}
