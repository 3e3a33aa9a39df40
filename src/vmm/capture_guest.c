/* SPDX-License-Identifier: MIT */
/*
 * Capture's guest-side register setter (capture_guest.h; docs/vmm.md "Capture").
 *
 * The guest runs at CPL3: on kvm_pvm that is the level that runs natively (host-kvm.md "How
 * guest code runs": CPL0 code goes through KVM's emulator, which stops at FLDCW, LDMXCSR and
 * every VEX/EVEX instruction; quirk pvm-cpl0-emulated), and on upstream KVM CPL3 runs in
 * guest mode like CPL0.  The code is assembled here from the encodings of real_guest.h, one
 * commented instruction a line; the drop-in model's KVM_RUN runs the equivalent guest program
 * (kvm_run.h ops, read by vx_kvm_guest_program_parse()) because the model runs no machine code.
 */
#include "vmm/capture_guest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/kvm_run.h>

#include "vmm/real_guest.h"
#include "vmm/vmm_internal.h"

#define M_X87	 VX_BIT(VX_COMP_X87)
#define M_SSE	 VX_BIT(VX_COMP_SSE)
#define M_AVX	 VX_BIT(VX_COMP_AVX)
#define M_AVX512 (VX_BIT(VX_COMP_OPMASK) | VX_BIT(VX_COMP_ZMM_HI256) | VX_BIT(VX_COMP_HI16_ZMM))
#define M_PKRU	 VX_BIT(VX_COMP_PKRU)

/* ----------------------------------------------------------------------------------------- */
/* The values                                                                                   */

/* splitmix64 (Steele, Lea, Flood 2014): the documented generator of the guest's values. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* @n bytes (a multiple of 8): one draw per 8 bytes, little-endian. */
static void fill(void *out, size_t n, uint64_t *state)
{
	uint8_t *p = out;

	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t d = splitmix64(state);

		for (unsigned b = 0; b < 8; b++)
			p[i + b] = (uint8_t)(d >> (8 * b));
	}
}

/* Which components the guest writes: each only when the guest XCR0 enables it (arch.md §3.1:
 * AVX-512 is opmask, ZMM_Hi256 and Hi16_ZMM together; a guest could not save a register of a
 * component its XCR0 leaves out). */
static uint64_t touched(uint64_t xcr0)
{
	static const uint64_t groups[] = {M_X87, M_SSE, M_AVX, M_AVX512, M_PKRU};
	uint64_t m = 0;

	/* No XSAVE in the guest (no XCR0 set): x87 and SSE are still there, the FXSAVE-era state
	 * every vCPU has and KVM_GET_XSAVE reports (arch.md §2.2). */
	if (!xcr0)
		return M_X87 | M_SSE;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if ((xcr0 & groups[i]) == groups[i])
			m |= groups[i];
	return m;
}

void vx_capture_values(uint32_t seed, uint64_t xcr0, struct vx_capture_values *v)
{
	uint64_t s = seed, d;

	memset(v, 0, sizeof(*v));
	v->touched = touched(xcr0);
	v->osxsave = xcr0 != 0;
	/* x87 (arch.md §2.2): IM, PM, PC = 11 and reserved bit 6 set, DM/ZM/OM/UM from the
	 * seed; no FLD of a constant raises anything but stack overflow, which 8 pushes do not. */
	d = splitmix64(&s);
	v->fcw = (uint16_t)(0x0361u | (d & 0x1Eu));
	v->nst = 1u + (unsigned)((d >> 8) & 7u);
	for (unsigned j = 0; j < 8; j++)
		v->konst[j] = (uint8_t)(((d >> (16 + 4 * j)) & 0xFu) % VX_CAPTURE_X87_CONSTANTS);
	/* MXCSR: every exception masked (0x1F80), the sticky flags (bits 0-5) and the rounding
	 * control (bits 13-14) from the seed; DAZ and FZ stay clear (MXCSR_MASK, arch.md §2.2). */
	v->mxcsr = 0x1F80u | (uint32_t)(splitmix64(&s) & 0x603Fu);
	fill(v->xmm, sizeof(v->xmm), &s);
	if (v->touched & M_AVX)
		fill(v->ymmh, sizeof(v->ymmh), &s);
	if (v->touched & M_AVX512) {
		fill(v->zmmh, sizeof(v->zmmh), &s);
		fill(v->hi16, sizeof(v->hi16), &s);
		fill(v->k, sizeof(v->k), &s);
	}
	/* PKRU: key 0's AD/WD bits (0-1) stay clear, so the guest's own pages stay usable. */
	if (v->touched & M_PKRU)
		v->pkru = (uint32_t)splitmix64(&s) & ~3u;
}

/* The 80-bit values FLD1 ... FLDZ push with RC = round to nearest (SDM Vol. 1 §8.3.8,
 * Table 8-8 values; significand, then sign and exponent). */
static const struct {
	uint64_t significand;
	uint16_t sign_exponent;
} x87_constants[VX_CAPTURE_X87_CONSTANTS] = {
    {UINT64_C(0x8000000000000000), 0x3FFF}, /* FLD1    +1.0 */
    {UINT64_C(0xD49A784BCD1B8AFE), 0x4000}, /* FLDL2T  log2(10) */
    {UINT64_C(0xB8AA3B295C17F0BC), 0x3FFF}, /* FLDL2E  log2(e) */
    {UINT64_C(0xC90FDAA22168C235), 0x4000}, /* FLDPI   pi */
    {UINT64_C(0x9A209A84FBCFF799), 0x3FFD}, /* FLDLG2  log10(2) */
    {UINT64_C(0xB17217F7D1CF79AC), 0x3FFE}, /* FLDLN2  ln(2) */
    {0, 0},				    /* FLDZ    +0.0 */
};

void vx_capture_x87_constant(unsigned k, uint8_t out[10])
{
	memset(out, 0, 10);
	if (k >= VX_CAPTURE_X87_CONSTANTS)
		return;
	for (unsigned b = 0; b < 8; b++)
		out[b] = (uint8_t)(x87_constants[k].significand >> (8 * b));
	out[8] = (uint8_t)x87_constants[k].sign_exponent;
	out[9] = (uint8_t)(x87_constants[k].sign_exponent >> 8);
}

/* ----------------------------------------------------------------------------------------- */
/* The machine code                                                                             */

struct code {
	uint8_t bytes[2048];
	size_t len;
};

static void put(struct code *c, const uint8_t *b, size_t n)
{
	if (c->len + n <= sizeof(c->bytes)) {
		memcpy(c->bytes + c->len, b, n);
		c->len += n;
	}
}

#define PUT(c, ...)                                                                                \
	do {                                                                                       \
		const uint8_t insn_[] = {__VA_ARGS__};                                             \
		put(c, insn_, sizeof(insn_));                                                      \
	} while (0)

/* x87: a clean FPU, the control word, the constants, the control word read back. */
static void code_x87(struct code *c, const struct vx_capture_values *v)
{
	PUT(c, 0xdb, 0xe3); /* fninit                       FCW 0x37F, FSW 0, stack empty */
	PUT(c, 0xd9, KRG_RSI_D32(5), KRG_D32(KRG_OFF_FCW)); /* fldcw [rsi+0xc48]   D9 /5 */
	for (unsigned j = 0; j < v->nst; j++)
		PUT(c, 0xd9, (uint8_t)(0xe8 + v->konst[j])); /* fld1 fldl2t fldl2e fldpi fldlg2
								fldln2 fldz: D9 E8+k */
	PUT(c, 0xd9, KRG_RDI_D32(7), KRG_D32(KRG_OFF_FCW));  /* fnstcw [rdi+0xc48]  D9 /7 */
}

/* Vectors: the widest load the guest XCR0 allows sets every narrower part too. */
static void code_vectors(struct code *c, const struct vx_capture_values *v)
{
	for (unsigned r = 0; r < 32 && (v->touched & M_AVX512); r++)
		PUT(c, KRG_ZMM_LD(r)); /* vmovdqu64 zmm<r>, [rsi+0x400+64r] */
	for (unsigned r = 0; r < 8 && (v->touched & M_AVX512); r++)
		PUT(c, KRG_K_LD(r)); /* kmovq k<r>, [rsi+0xc00+8r] */
	for (unsigned r = 0; r < 16 && (v->touched & M_AVX512) == 0 && (v->touched & M_AVX); r++)
		PUT(c, KRG_YMM_LD(r)); /* vmovdqu ymm<r>, [rsi+0x200+32r] */
	for (unsigned r = 0; r < 16 && (v->touched & (M_AVX | M_AVX512)) == 0; r++)
		PUT(c, KRG_XMM_LD(r)); /* movdqu xmm<r>, [rsi+0xa0+16r] */
}

static void assemble(struct code *c, const struct vx_capture_values *v)
{
	c->len = 0;
	code_x87(c, v);
	if (v->touched & M_SSE)
		PUT(c, KRG_LDMXCSR); /* ldmxcsr [rsi+0xc40]             0F AE /2 */
	if (v->touched & M_SSE)
		code_vectors(c, v);
	if (v->touched & M_PKRU) {
		PUT(c, 0x8b, KRG_RSI_D32(0), KRG_D32(KRG_OFF_PKRU)); /* mov eax, [rsi+0xc50] */
		PUT(c, 0x31, 0xc9);				     /* xor ecx, ecx */
		PUT(c, 0x31, 0xd2);				     /* xor edx, edx */
		PUT(c, 0x0f, 0x01, 0xef); /* wrpkru          PKRU = EAX (ECX = EDX = 0) */
	}
	PUT(c, KRG_OUT_DONE); /* out 0x10, al; hlt */
}

/* The data the code loads, at KRG_IN (RSI). */
static void write_data(uint8_t *in, const struct vx_capture_values *v)
{
	memset(in, 0, KRG_DATA_SIZE);
	memcpy(in + KRG_OFF_FCW, &v->fcw, 2);
	memcpy(in + KRG_OFF_MXCSR, &v->mxcsr, 4);
	memcpy(in + KRG_OFF_PKRU, &v->pkru, 4);
	memcpy(in + KRG_OFF_K, v->k, sizeof(v->k));
	for (unsigned r = 0; r < 16; r++) {
		memcpy(in + KRG_OFF_FXSAVE + 160 + 16 * r, v->xmm[r], 16);
		memcpy(in + KRG_OFF_YMM + 32 * r, v->xmm[r], 16);
		memcpy(in + KRG_OFF_YMM + 32 * r + 16, v->ymmh[r], 16);
		memcpy(in + KRG_OFF_ZMM + 64 * r, v->xmm[r], 16);
		memcpy(in + KRG_OFF_ZMM + 64 * r + 16, v->ymmh[r], 16);
		memcpy(in + KRG_OFF_ZMM + 64 * r + 32, v->zmmh[r], 32);
		memcpy(in + KRG_OFF_ZMM + 64 * (16 + r), v->hi16[r], 64);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* The model's guest program                                                                    */

struct text {
	char *buf;
	size_t len, cap;
};

/* "cpl3 set REG VALUE": the value as a number, byte 0 last (kvm_run.h). */
static void set_line(struct text *t, const char *reg, const void *bytes, size_t n)
{
	const uint8_t *b = bytes;
	int w;

	if (t->len + 32 + 2 * n >= t->cap)
		return;
	w = snprintf(t->buf + t->len, t->cap - t->len, "cpl3 set %s 0x", reg);
	t->len += w > 0 ? (size_t)w : 0;
	for (size_t i = n; i-- > 0;)
		t->len += (size_t)snprintf(t->buf + t->len, t->cap - t->len, "%02x", b[i]);
	t->len += (size_t)snprintf(t->buf + t->len, t->cap - t->len, "\n");
}

/* What the pushes leave (arch.md §2.2): TOP = 8 - n (mod 8) in FSW, the pushed physical
 * registers TOP..7 valid in the abridged tag byte. */
static void x87_status(const struct vx_capture_values *v, uint16_t *fsw, uint8_t *ftw)
{
	*fsw = (uint16_t)(((8u - v->nst) & 7u) << 11);
	*ftw = (uint8_t)(0xFFu << (8u - v->nst));
}

/* The x87 registers as the real code leaves them: FCW, ST(i), FSW, the tags. */
static void program_x87(struct text *t, const struct vx_capture_values *v)
{
	uint16_t fsw = 0;
	uint8_t ftw = 0, st[10];
	char name[16];

	x87_status(v, &fsw, &ftw);
	set_line(t, "fcw", &v->fcw, 2);
	for (unsigned i = 0; i < v->nst; i++) {
		vx_capture_x87_constant(v->konst[v->nst - 1 - i], st);
		snprintf(name, sizeof(name), "st%u", i);
		set_line(t, name, st, 10);
	}
	set_line(t, "fsw", &fsw, 2);
	set_line(t, "ftw", &ftw, 1);
}

static void program_vectors(struct text *t, const struct vx_capture_values *v)
{
	char name[16];

	set_line(t, "mxcsr", &v->mxcsr, 4);
	for (unsigned r = 0; r < 16; r++) {
		snprintf(name, sizeof(name), "xmm%u", r);
		set_line(t, name, v->xmm[r], 16);
		snprintf(name, sizeof(name), "ymmh%u", r);
		if (v->touched & M_AVX)
			set_line(t, name, v->ymmh[r], 16);
		snprintf(name, sizeof(name), "zmmh%u", r);
		if (v->touched & M_AVX512)
			set_line(t, name, v->zmmh[r], 32);
		snprintf(name, sizeof(name), "zmm%u", 16 + r);
		if (v->touched & M_AVX512)
			set_line(t, name, v->hi16[r], 64);
	}
	for (unsigned r = 0; r < 8 && (v->touched & M_AVX512); r++) {
		snprintf(name, sizeof(name), "k%u", r);
		set_line(t, name, &v->k[r], 8);
	}
}

struct model_guest {
	struct vx_kvm_guest_op ops[160];
	unsigned count;
	struct vx_kvm_run run;
};

static int model_program(struct model_guest *m, const struct vx_capture_values *v,
			 const struct vx_platform *pf, struct vx_error *err)
{
	struct text t = {vx_vmm_zalloc(pf, 32768), 0, 32768};
	int rc;

	if (!t.buf)
		return vx_error_set(err, -ENOMEM, NULL, "cannot allocate the program text");
	t.buf[0] = '\0';
	program_x87(&t, v);
	if (v->touched & M_SSE)
		program_vectors(&t, v);
	if (v->touched & M_PKRU)
		set_line(&t, "pkru", &v->pkru, 4);
	snprintf(t.buf + t.len, t.cap - t.len, "cpl3 out 0x%x 0\n", KRG_PORT_DONE);
	rc = vx_kvm_guest_program_parse(t.buf, strlen(t.buf), m->ops, 160, &m->count, err);
	vx_vmm_free(pf, t.buf);
	m->run.ops = m->ops;
	m->run.count = m->count;
	return rc;
}

/* The model's KVM_RUN: the program up to its OUT, the exit written into struct kvm_run as
 * <linux/kvm.h> lays it out; an exception the guest took fails the run with its name. */
static int model_hook(void *ctx, struct vx_kvm_dev *dev, struct vx_kvm_vcpu *vcpu, void *page,
		      struct vx_error *err)
{
	struct model_guest *m = ctx;
	struct kvm_run *k = page;
	char ev[96];
	int rc = m->run.pc < m->run.count
		     ? vx_kvm_vcpu_run(vcpu, vx_kvm_dev_task(dev), 0, &m->run, 0, err)
		     : VX_KVM_RUN_DONE;

	if (rc < 0)
		return rc;
	if (m->run.event.kind != VX_EVENT_NONE)
		return vx_error_set(err, -EFAULT, "kvm_run.h", "the guest took %s at op %u",
				    vx_event_name(&m->run.event, ev, sizeof(ev)), m->run.pc);
	k->exit_reason = KVM_EXIT_HLT;
	if (rc == VX_KVM_RUN_EXIT && m->run.exit_reason == VX_KVM_EXIT_IO) {
		k->exit_reason = KVM_EXIT_IO;
		k->io.direction = KVM_EXIT_IO_OUT;
		k->io.size = 1;
		k->io.port = (uint16_t)m->ops[m->run.pc - 1].index;
		k->io.count = 1;
		k->io.data_offset = sizeof(*k);
	}
	if (rc == VX_KVM_RUN_EXIT && m->run.exit_reason == VX_KVM_EXIT_INTERNAL_ERROR) {
		k->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		k->internal.suberror = m->run.internal_suberror;
	}
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The check: does the saved state hold what the guest wrote?                                   */

struct image {
	const uint8_t *blob;
	uint32_t size;
	const struct vx_profile *host;
	uint64_t bad; /* the components whose bytes differ */
};

/* @n bytes of component @comp at @off (legacy region) or at its standard offset + @off. */
static void place(struct image *im, unsigned comp, uint32_t off, const void *src, uint32_t n)
{
	struct vx_component_desc d;

	/* x87 and SSE live in the legacy region; the others at CPUID.(0xD,i).EBX (arch.md §2.4). */
	if (comp > VX_COMP_SSE && !(vx_profile_component(im->host, comp, &d) && d.size))
		return;
	if (comp > VX_COMP_SSE)
		off += d.standard_offset;
	if ((uint64_t)off + n > im->size)
		return;
	/* Compared in place (no image of the expected bytes: nothing to allocate). */
	if (memcmp(im->blob + off, src, n) != 0)
		im->bad |= VX_BIT(comp);
}

static void place_x87(struct image *im, const struct vx_capture_values *v)
{
	uint16_t fsw = 0;
	uint8_t ftw = 0, st[10];

	x87_status(v, &fsw, &ftw);
	place(im, VX_COMP_X87, 0, &v->fcw, 2);
	place(im, VX_COMP_X87, 2, &fsw, 2);
	place(im, VX_COMP_X87, 4, &ftw, 1);
	for (unsigned i = 0; i < v->nst; i++) {
		vx_capture_x87_constant(v->konst[v->nst - 1 - i], st);
		place(im, VX_COMP_X87, 32 + 16 * i, st, 10);
	}
}

/* Every register of @v->touched where KVM_GET_XSAVE puts it (arch.md §2.1, §2.2). */
static void place_all(struct image *im, const struct vx_capture_values *v)
{
	place_x87(im, v);
	for (unsigned r = 0; r < 16 && (v->touched & M_SSE); r++)
		place(im, VX_COMP_SSE, 160 + 16 * r, v->xmm[r], 16);
	if (v->touched & M_SSE)
		place(im, VX_COMP_SSE, 24, &v->mxcsr, 4);
	for (unsigned r = 0; r < 16 && (v->touched & M_AVX); r++)
		place(im, VX_COMP_AVX, 16 * r, v->ymmh[r], 16);
	for (unsigned r = 0; r < 16 && (v->touched & M_AVX512); r++) {
		place(im, VX_COMP_ZMM_HI256, 32 * r, v->zmmh[r], 32);
		place(im, VX_COMP_HI16_ZMM, 64 * r, v->hi16[r], 64);
	}
	for (unsigned r = 0; r < 8 && (v->touched & M_AVX512); r++)
		place(im, VX_COMP_OPMASK, 8 * r, &v->k[r], 8);
	if (v->touched & M_PKRU)
		place(im, VX_COMP_PKRU, 0, &v->pkru, 4);
}

uint64_t vx_capture_check(const struct vx_capture_values *v, const struct vx_profile *host,
			  const uint8_t *blob, uint32_t size)
{
	struct image im = {blob, size, host, 0};
	uint64_t bad;

	place_all(&im, v);
	bad = im.bad;
	/* A bit the guest touched but XSTATE_BV lacks: the bytes are not its state (§2.3). */
	if (size >= 520)
		for (unsigned c = 0; c < VX_COMP_LIMIT; c++)
			if ((v->touched & VX_BIT(c)) && !(blob[512 + c / 8] >> (c % 8) & 1))
				bad |= VX_BIT(c);
	return bad;
}

/* ----------------------------------------------------------------------------------------- */
/* The run                                                                                      */

/* Did the guest get to its end, seeing the control word it loaded (real code only)? */
static int judge(const struct vx_krg_guest *g, const struct vx_krg_result *r,
		 const struct vx_capture_values *v, bool model, char *why, size_t len)
{
	uint16_t fcw = 0;

	if (r->outcome != KRG_DONE) {
		char what[96];

		vx_krg_describe(r, what, sizeof(what));
		snprintf(why, len, "the guest stopped: %s", what);
		return -EIO;
	}
	memcpy(&fcw, g->mem + KRG_OUT + KRG_OFF_FCW, 2);
	if (!model && fcw != v->fcw) {
		snprintf(why, len, "the guest's FNSTCW read 0x%04x after FLDCW 0x%04x", fcw,
			 v->fcw);
		return -EIO;
	}
	return 0;
}

static int run_guest(struct vx_krg_guest *g, struct vx_kvm_dev *model, const struct vx_platform *pf,
		     const struct vx_capture_values *v, char *why, size_t len)
{
	struct vx_krg_entry e = {3, KRG_CR4_DEFAULT, 0, 0, 0};
	struct vx_krg_result r;
	struct code *c = vx_vmm_zalloc(pf, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(why, len, "cannot allocate the guest code");
		return -ENOMEM;
	}
	/* CR4.OSXSAVE is reserved without XSAVE in the guest caps (cr4_guest_rsvd_bits, kvm.md
	 * §1.4): set only when the guest has an XCR0. */
	if (!v->osxsave)
		e.cr4 &= ~KRG_CR4_OSXSAVE;
	/* WRPKRU is #UD without CR4.PKE (arch.md §7.3). */
	if (v->touched & M_PKRU)
		e.cr4 |= KRG_CR4_PKE;
	assemble(c, v);
	rc = vx_krg_exec(g, &(struct vx_krg_code){"capture", c->bytes, c->len}, &e, &r);
	vx_vmm_free(pf, c);
	if (rc) {
		const struct vx_error *last = model ? vx_kvm_dev_last_error(model) : NULL;

		snprintf(why, len, "%s%s%s", g->why, last && last->code ? " - " : "",
			 last && last->code ? last->reason : "");
		return rc;
	}
	return judge(g, &r, v, model != NULL, why, len);
}

int vx_capture_guest_run(const struct vx_kvm_backend *be, struct vx_kvm_dev *model,
			 const struct vx_platform *pf, int sys_fd, int vm_fd, int vcpu_fd,
			 uint32_t seed, uint64_t xcr0, uint64_t *done, char *why, size_t len)
{
	struct model_guest *m = model ? vx_vmm_zalloc(pf, sizeof(*m)) : NULL;
	struct vx_capture_values v;
	struct vx_krg_guest g;
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	vx_capture_values(seed, xcr0, &v);
	if (model && (!m || model_program(m, &v, pf, &err) != 0)) {
		rc = m && err.code ? err.code : -ENOMEM;
		snprintf(why, len, "the model's guest program: %s",
			 m ? err.reason : "cannot allocate it");
		vx_vmm_free(pf, m);
		return rc;
	}
	rc = vx_krg_attach(&g, be, sys_fd, vm_fd, vcpu_fd);
	if (rc)
		snprintf(why, len, "%s", g.why);
	if (!rc) {
		write_data(g.mem + KRG_IN, &v);
		if (model)
			vx_kvm_dev_set_run_hook(model, model_hook, m);
		rc = run_guest(&g, model, pf, &v, why, len);
		if (model)
			vx_kvm_dev_set_run_hook(model, NULL, NULL);
		vx_krg_close(&g);
	}
	vx_vmm_free(pf, m);
	*done = rc ? 0 : v.touched;
	return rc;
}
