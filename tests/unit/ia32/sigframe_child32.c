/* SPDX-License-Identifier: MIT */
/*
 * A freestanding 32-bit (i386) program for test_fpu_ia32_diff.c: it makes the real kernel
 * deliver an ia32 signal frame and, on request, run an ia32 sigreturn from a mutated frame.
 * No libc: raw int $0x80 system calls, so it builds with `cc -m32 -nostdlib` even where no
 * 32-bit C library is installed.  It never touches x87/SSE registers itself except through
 * XRSTOR/XSAVE (-mgeneral-regs-only).
 *
 * Input (stdin):  struct request, then img_len bytes of a standard-format XSAVE image (32-bit
 *                  form: FIP/FCS and FDP/FDS).
 * Output (stdout): struct reply, then frame_len bytes starting at the frame's fpstate pointer
 *                  (the 112-byte fsave header), then, for a sigreturn, img_len bytes that XSAVE
 *                  wrote after sigreturn (or nothing when sigreturn raised SIGSEGV).
 * Steps: XRSTOR (32-bit form, EDX:EAX = -1) of the image; XGETBV(1); UD2 → SIGILL on a
 * pattern-filled altstack; the handler copies the frame, applies the byte writes (offsets from
 * the fpstate pointer), optionally clears the fpstate pointer, and returns (mode 1) or exits
 * (mode 0).
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

#define SYS_exit_group	 252
#define SYS_read	 3
#define SYS_write	 4
#define SYS_rt_sigaction 174
#define SYS_sigaltstack	 186
#define SYS_rt_sigreturn 173

#define SIGILL	      4
#define SIGSEGV	      11
#define SA_SIGINFO    0x4u
#define SA_ONSTACK    0x08000000u
#define SA_RESTORER   0x04000000u
#define ALT_SIZE      65536u
#define IMG_MAX	      16384u
#define FRAME_MAX     20480u
#define PATTERN	      0xA5
#define MAX_WRITES    8
#define REQUEST_MAGIC 0x32334149u /* "IA32" */

struct write {
	u32 off, len;
	u8 bytes[8];
};

struct request {
	u32 magic;
	u32 mode; /* 0: deliver and exit; 1: mutate and sigreturn */
	u32 img_len;
	u32 frame_len;
	u32 null_fpstate;
	u32 nwrites;
	struct write w[MAX_WRITES];
};

struct reply {
	u32 magic;
	u32 xinuse_lo, xinuse_hi;
	u32 fpstate;  /* the fpstate pointer in the sigcontext */
	u32 alt_base; /* the altstack's base address */
	u32 frame_len;
	u32 segv; /* 1: sigreturn raised SIGSEGV */
	u32 segv_code;
	u32 minsigstksz; /* AT_MINSIGSTKSZ from the auxiliary vector, 0 if absent */
};

static struct request req;
static struct reply rep;
static u8 alt[ALT_SIZE] __attribute__((aligned(64)));
static u8 img[IMG_MAX] __attribute__((aligned(64)));
static u8 out[IMG_MAX] __attribute__((aligned(64)));
static u8 frame[FRAME_MAX];

static long sys3(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

static long sys4(long n, long a, long b, long c, long d)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
	return r;
}

static void die(int code)
{
	for (;;)
		sys3(SYS_exit_group, code, 0, 0);
}

static void read_all(void *p, u32 n)
{
	u8 *b = p;

	while (n) {
		long r = sys3(SYS_read, 0, (long)b, (long)n);

		if (r <= 0)
			die(2);
		b += r;
		n -= (u32)r;
	}
}

static void write_all(const void *p, u32 n)
{
	const u8 *b = p;

	while (n) {
		long r = sys3(SYS_write, 1, (long)b, (long)n);

		if (r <= 0)
			die(3);
		b += r;
		n -= (u32)r;
	}
}

static void copy(u8 *d, const u8 *s, u32 n)
{
	while (n--)
		*d++ = *s++;
}

/* ucontext_ia32: uc_flags, uc_link, uc_stack (12), then sigcontext_32; fpstate at +76. */
#define UC_FPSTATE 96u
#define UC_EIP	   (20u + 56u)

static void on_sigill(int sig, void *info, void *ucv)
{
	u8 *uc = ucv;
	u32 fp;

	(void)sig;
	(void)info;
	copy((u8 *)&fp, uc + UC_FPSTATE, 4);
	rep.fpstate = fp;
	if (fp)
		copy(frame, (const u8 *)fp, req.frame_len);
	if (req.mode == 0) {
		write_all(&rep, sizeof(rep));
		write_all(frame, req.frame_len);
		die(0);
	}
	for (u32 i = 0; i < req.nwrites && i < MAX_WRITES; i++)
		copy((u8 *)fp + req.w[i].off, req.w[i].bytes, req.w[i].len);
	if (req.null_fpstate) {
		u32 zero = 0;

		copy(uc + UC_FPSTATE, (const u8 *)&zero, 4);
	}
	{
		u32 eip;

		copy((u8 *)&eip, uc + UC_EIP, 4);
		eip += 2; /* past UD2 */
		copy(uc + UC_EIP, (const u8 *)&eip, 4);
	}
}

static void on_sigsegv(int sig, void *info, void *ucv)
{
	(void)sig;
	(void)ucv;
	rep.segv = 1;
	copy((u8 *)&rep.segv_code, (const u8 *)info + 8, 4);
	write_all(&rep, sizeof(rep));
	write_all(frame, req.frame_len);
	die(0);
}

extern void restorer(void);
__asm__(".text\nrestorer:\n\tmovl $173, %eax\n\tint $0x80\n");

struct ksigaction {
	void *handler;
	u32 flags;
	void *restorer;
	u32 mask[2];
};

static void install(int sig, void *handler)
{
	struct ksigaction act = {handler, SA_SIGINFO | SA_ONSTACK | SA_RESTORER, restorer, {0, 0}};

	if (sys4(SYS_rt_sigaction, sig, (long)&act, 0, 8) != 0)
		die(4);
}

static void run(void)
{
	__asm__ volatile("movl $-1, %%eax\n\t"
			 "movl $-1, %%edx\n\t"
			 "xrstor (%[in])\n\t"
			 "movl $1, %%ecx\n\t"
			 "xgetbv\n\t"
			 "movl %%eax, %[lo]\n\t"
			 "movl %%edx, %[hi]\n\t"
			 "ud2\n\t"
			 "movl $-1, %%eax\n\t"
			 "movl $-1, %%edx\n\t"
			 "xsave (%[out])\n\t"
			 : [lo] "=m"(rep.xinuse_lo), [hi] "=m"(rep.xinuse_hi)
			 : [in] "r"(img), [out] "r"(out)
			 : "eax", "ecx", "edx", "memory", "cc");
}

#define AT_MINSIGSTKSZ 51

/* The initial stack: argc, argv[], NULL, envp[], NULL, then the auxiliary vector. */
static u32 auxv_minsigstksz(const u32 *sp)
{
	const u32 *p = sp + 1 + sp[0] + 1;

	while (*p)
		p++;
	for (p++; p[0]; p += 2)
		if (p[0] == AT_MINSIGSTKSZ)
			return p[1];
	return 0;
}

void start_c(const u32 *sp);

void start_c(const u32 *sp)
{
	struct {
		void *sp;
		int flags;
		u32 size;
	} ss = {alt, 0, ALT_SIZE};

	read_all(&req, sizeof(req));
	if (req.magic != REQUEST_MAGIC || req.img_len > IMG_MAX || req.frame_len > FRAME_MAX)
		die(5);
	read_all(img, req.img_len);
	for (u32 i = 0; i < ALT_SIZE; i++)
		alt[i] = PATTERN;
	if (sys3(SYS_sigaltstack, (long)&ss, 0, 0) != 0)
		die(6);
	install(SIGILL, (void *)on_sigill);
	install(SIGSEGV, (void *)on_sigsegv);
	rep.magic = REQUEST_MAGIC;
	rep.minsigstksz = auxv_minsigstksz(sp);
	rep.alt_base = (u32)alt;
	rep.frame_len = req.frame_len;
	run();
	write_all(&rep, sizeof(rep));
	write_all(frame, req.frame_len);
	write_all(out, req.img_len);
	die(0);
}

/* The ELF entry point: start_c(initial stack pointer) on a 16-byte aligned stack. */
__asm__(".text\n.globl _start\n_start:\n\tmovl %esp, %eax\n\tandl $-16, %esp\n\tsubl $12, %esp\n"
	"\tpushl %eax\n\tcall start_c\n\thlt\n");
