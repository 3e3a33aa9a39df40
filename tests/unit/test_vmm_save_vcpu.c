/* SPDX-License-Identifier: MIT */
/*
 * vx_vmm_save_vcpu() (issue 10: a bundle from a vCPU someone else set up, `kvm save`): an
 * existing vCPU of the drop-in model, set up here call by call as a VMM does, is read back
 * into a bundle.
 *
 *  1. The bundle holds what was set: XCR0 (KVM_SET_XCRS), a CPUID entry set with a literal
 *     value (KVM_SET_CPUID2 keeps a leaf without runtime bits as given, kvm.md §2.5), an MSR
 *     (U_CET, §3.2) and the bytes loaded with KVM_SET_XSAVE at their standard offsets (XMM0 at
 *     byte 160, MXCSR at 24, arch.md §2.2; §5.2: KVM_GET_XSAVE2 gives the standard format).
 *     The caller's origin, vCPU id and flavour stay; the host profile is recorded by name.
 *  2. A read that fails (KVM_GET_XCRS answering EIO through a wrapping backend) is an error
 *     naming that ioctl, and the bundle is unchanged byte for byte.
 *  3. The read-back is the same sequence a capture makes: nothing outside the calls a VMM's
 *     save makes is sent (every request the wrapper sees is one of the read-only ones).
 */
#include "vmm_test_util.h"

#include <linux/kvm.h>

#include <vxsave/kvm_ioctl.h>
#include <vxsave/vmm_compat.h>

#define XMM0_LO	 UINT64_C(0x0123456789abcdef)
#define XMM0_HI	 UINT64_C(0xfedcba9876543210)
#define MXCSR	 0x1fa0u       /* default 0x1f80 with PE (bit 5) set */
#define BRAND	 0x56535856u   /* "VXSV" in CPUID 0x80000002 EAX */
#define U_CET	 0x6a0u	       /* IA32_U_CET (kvm.md §3.2) */
#define U_CET_EN UINT64_C(0x1) /* SH_STK_EN */
#define MAX_ENT	 VX_VMM_BUNDLE_MAX_CPUID

struct fixture {
	struct vx_kvm_dev *dev;
	struct vx_kvm_backend model;
	int sys, vm, vcpu;
};

/* The wrapper: passes requests to the model, fails one, remembers any it did not expect. */
struct wrap {
	const struct vx_kvm_backend *inner;
	unsigned long fail;
	unsigned long unexpected;
};

static int wrap_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	static const unsigned long reads[] = {
	    KVM_CHECK_EXTENSION,    KVM_GET_CPUID2, KVM_GET_XCRS,
	    KVM_GET_MSR_INDEX_LIST, KVM_GET_MSRS,   KVM_GET_REG_LIST,
	    KVM_GET_ONE_REG,	    KVM_GET_XSAVE,  KVM_GET_XSAVE2};
	struct wrap *w = ctx;
	bool known = false;

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		known |= reads[i] == request;
	if (!known)
		w->unexpected = request;
	if (request == w->fail) {
		errno = EIO;
		return -1;
	}
	return w->inner->ioctl(w->inner->ctx, fd, request, arg);
}

static void must(int rc, const char *what)
{
	if (rc < 0)
		fail_msg("%s: %s", what, strerror(errno));
}

static void set_cpuid(struct fixture *f)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_ENT * sizeof(struct kvm_cpuid_entry2));
	uint32_t n, i;

	assert_non_null(c);
	c->nent = MAX_ENT;
	must(f->model.ioctl(f->model.ctx, f->sys, KVM_GET_SUPPORTED_CPUID, c), "supported");
	n = c->nent;
	assert_true(n < MAX_ENT);
	/* The brand string's first leaf, replaced (or added) with a literal EAX. */
	for (i = 0; i < n && c->entries[i].function != 0x80000002u; i++)
		;
	c->entries[i] = (struct kvm_cpuid_entry2){.function = 0x80000002u, .eax = BRAND};
	c->nent = i == n ? n + 1 : n;
	must(f->model.ioctl(f->model.ctx, f->vcpu, KVM_SET_CPUID2, c), "KVM_SET_CPUID2");
	free(c);
}

static void set_state(struct fixture *f)
{
	struct kvm_xcrs xcrs = {.nr_xcrs = 1, .xcrs = {{.xcr = 0, .value = 0x7}}};
	/* Room for one entry after the header (no flexible-array struct inside a struct). */
	union {
		struct kvm_msrs hdr;
		uint8_t room[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} msrs;
	uint8_t *x = calloc(1, 4096);

	assert_non_null(x);
	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 1;
	msrs.hdr.entries[0].index = U_CET;
	msrs.hdr.entries[0].data = U_CET_EN;
	must(f->model.ioctl(f->model.ctx, f->vcpu, KVM_SET_XCRS, &xcrs), "KVM_SET_XCRS");
	assert_int_equal(f->model.ioctl(f->model.ctx, f->vcpu, KVM_SET_MSRS, &msrs), 1);
	must(f->model.ioctl(f->model.ctx, f->vcpu, KVM_GET_XSAVE, x), "KVM_GET_XSAVE");
	vt_put(x + 24, 4, MXCSR);
	vt_put(x + 160, 8, XMM0_LO);
	vt_put(x + 168, 8, XMM0_HI);
	vt_put(x + 512, 8, vt_get(x + 512, 8) | VT_FPSSE); /* XSTATE_BV: x87 and SSE */
	must(f->model.ioctl(f->model.ctx, f->vcpu, KVM_SET_XSAVE, x), "KVM_SET_XSAVE");
	free(x);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;

	assert_non_null(f);
	vx_kvm_dev_options_init(&o);
	o.profile = "sapphire-rapids";
	o.flavour = VX_KVM_VMX;
	if (vx_kvm_dev_create(&o, &f->dev, &err) != 0)
		fail_msg("the model: %s", err.reason);
	vx_kvm_backend_model(&f->model, f->dev);
	f->sys = f->model.open(f->model.ctx);
	must(f->sys, "open");
	f->vm = f->model.ioctl(f->model.ctx, f->sys, KVM_CREATE_VM, NULL);
	must(f->vm, "KVM_CREATE_VM");
	f->vcpu = f->model.ioctl(f->model.ctx, f->vm, KVM_CREATE_VCPU, (void *)(uintptr_t)3);
	must(f->vcpu, "KVM_CREATE_VCPU");
	set_cpuid(f);
	set_state(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vx_kvm_dev_destroy(f->dev);
	free(f);
	return 0;
}

static struct vx_vmm_bundle *caller_bundle(void)
{
	struct vx_vmm_bundle *b = malloc(sizeof(*b));

	assert_non_null(b);
	vx_vmm_bundle_init(b);
	snprintf(b->origin, sizeof(b->origin), "the test's origin");
	b->vcpu_id = 3;
	b->flavour = VX_KVM_VMX;
	return b;
}

static const struct vx_kvm_cpuid_entry *entry(const struct vx_vmm_bundle *b, uint32_t fn)
{
	for (uint32_t i = 0; i < b->ncpuid; i++)
		if (b->cpuid[i].function == fn)
			return &b->cpuid[i];
	return NULL;
}

static void test_saves_what_was_set(void **state)
{
	struct fixture *f = *state;
	struct vx_vmm_bundle *b = caller_bundle();
	struct vx_error err = VX_ERROR_INIT;
	struct vx_profile host;
	const struct vx_kvm_cpuid_entry *brand;
	uint64_t xcr0 = 0, cet = 0;

	assert_int_equal(vx_profile_builtin(&host, "sapphire-rapids", NULL), 0);
	assert_int_equal(vx_vmm_save_vcpu(&f->model, f->sys, f->vm, f->vcpu, &host, b, &err), 0);
	assert_true(vx_vmm_bundle_xcr0(b, &xcr0));
	assert_int_equal(xcr0, 0x7);
	brand = entry(b, 0x80000002u);
	assert_non_null(brand);
	if (brand)
		assert_int_equal(brand->eax, BRAND);
	assert_true(vx_vmm_bundle_msr(b, U_CET, &cet));
	assert_int_equal(cet, U_CET_EN);
	/* 0x602e7 without AMX permission: 2696 bytes, below struct kvm_xsave's 4096 (§5.1). */
	assert_int_equal(b->xsave_len, 4096);
	assert_int_equal(vt_get(b->xsave + 24, 4), MXCSR);
	assert_int_equal(vt_get(b->xsave + 160, 8), XMM0_LO);
	assert_int_equal(vt_get(b->xsave + 168, 8), XMM0_HI);
	assert_true(vx_vmm_bundle_xstate_bv(b) & UINT64_C(0x2)); /* SSE, as loaded */
	assert_string_equal(b->origin, "the test's origin");
	assert_int_equal(b->vcpu_id, 3);
	assert_true(b->has_profile && b->profile_by_name);
	assert_string_equal(b->profile.name, "sapphire-rapids");
	free(b);
}

static void test_failed_read_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct vx_vmm_bundle *b = caller_bundle(), *copy = malloc(sizeof(*copy));
	struct wrap w = {&f->model, KVM_GET_XCRS, 0};
	struct vx_kvm_backend be = {"wrapped model", &w, NULL, wrap_ioctl, NULL};
	struct vx_error err = VX_ERROR_INIT;

	assert_non_null(copy);
	memcpy(copy, b, sizeof(*b));
	assert_int_equal(vx_vmm_save_vcpu(&be, f->sys, f->vm, f->vcpu, NULL, b, &err), -EIO);
	assert_non_null(strstr(err.reason, "KVM_GET_XCRS"));
	assert_memory_equal(b, copy, sizeof(*b));
	assert_int_equal(w.unexpected, 0);
	free(copy);
	free(b);
}

static void test_reads_only(void **state)
{
	struct fixture *f = *state;
	struct vx_vmm_bundle *b = caller_bundle();
	struct wrap w = {&f->model, 0, 0};
	struct vx_kvm_backend be = {"wrapped model", &w, NULL, wrap_ioctl, NULL};
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_vmm_save_vcpu(&be, f->sys, f->vm, f->vcpu, NULL, b, &err), 0);
	assert_int_equal(w.unexpected, 0);
	assert_false(b->has_profile);
	assert_int_equal(vx_vmm_save_vcpu(NULL, f->sys, f->vm, f->vcpu, NULL, b, &err), -EINVAL);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_saves_what_was_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_read_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reads_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
