/* SPDX-License-Identifier: MIT */
/*
 * The seed inputs of the binary fuzz targets (issue 11), written once and committed under
 * fuzz/corpus/: `fuzz_gen_seeds DIR` writes DIR/uabi/ and DIR/kvm_ioctl/.
 *
 *  - uabi: for every built-in profile and fpu CET_S design, the uABI buffer the kernel gives
 *    for a fresh fpstate (vx_fpstate_to_uabi, XSAVE mode, user_size bytes) behind the target's
 *    header (fuzz_uabi.c), once for each entry point.
 *  - kvm_ioctl: the usual VMM sequence on several hosts (fuzz_kvm_ioctl.h): guest permission,
 *    KVM_CREATE_VM, KVM_CREATE_VCPU, KVM_GET_SUPPORTED_CPUID fed to KVM_SET_CPUID2, the MSR
 *    lists, KVM_GET/SET_MSRS of XSS and XFD, KVM_SET_XCRS, KVM_GET_XSAVE2 fed to KVM_SET_XSAVE,
 *    KVM_RUN of a small guest, a close and a call on the closed descriptor.
 *  - vmm_state: bundles captured from the model's /dev/kvm (vx_vmm_capture) on several hosts,
 *    written by vx_vmm_bundle_format.
 *
 * Text targets (cpuid_dump, script, guest_program) take their seeds from the tree's fixtures,
 * examples and profiles (docs/robustness.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vxsave/fpstate.h>
#include <vxsave/kvm.h>
#include <vxsave/vmm_compat.h>

#include "fuzz_kvm_ioctl.h"

struct out {
	uint8_t bytes[1u << 20];
	size_t len;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > sizeof(o->bytes)) {
		fprintf(stderr, "seed too long\n");
		exit(1);
	}
	memcpy(o->bytes + o->len, p, n);
	o->len += n;
}

static void put8(struct out *o, uint8_t v)
{
	put(o, &v, 1);
}

static void put16(struct out *o, uint16_t v)
{
	put(o, &v, 2);
}

static void put64(struct out *o, uint64_t v)
{
	put(o, &v, 8);
}

static void save(const char *dir, const char *name, const struct out *o)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(o->bytes, 1, o->len, f) != o->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* uabi                                                                                         */

static void uabi_seed(const char *dir, unsigned p, unsigned design)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_system *sys = NULL;
	struct vx_fpstate *fps = NULL;
	struct vx_profile profile;
	static uint8_t buf[1u << 15];
	char name[96];

	if (vx_profile_builtin(&profile, vx_builtin_profile_name(p), &err) != 0)
		return;
	config.cet_design = (enum vx_fpu_cet_design)design;
	if (vx_fpu_system_create(&profile, &config, &sys, &err) != 0 ||
	    vx_fpstate_create(sys, false, &fps, &err) != 0 || fps->user_size > sizeof(buf) ||
	    vx_fpstate_to_uabi(sys, fps, fps->user_xfeatures, 0x55555554, VX_UABI_COPY_XSAVE, buf,
			       fps->user_size, &err) != 0)
		goto out;
	for (uint8_t entry = 0; entry < 4; entry++) {
		static struct out o;

		o.len = 0;
		put8(&o, (uint8_t)p);
		put8(&o, (uint8_t)(design | (entry >= 2 ? 0x10 : 0)));
		put8(&o, entry);
		put64(&o, vx_profile_xcr0_supported(&profile));
		put64(&o, fps->user_xfeatures);
		put16(&o, (uint16_t)fps->user_size);
		put(&o, buf, fps->user_size);
		snprintf(name, sizeof(name), "%s-%s-%u", vx_builtin_profile_name(p),
			 vx_fpu_cet_design_name(config.cet_design), entry);
		save(dir, name, &o);
	}
out:
	vx_fpstate_destroy(sys, fps);
	vx_fpu_system_destroy(sys);
}

/* ----------------------------------------------------------------------------------------- */
/* kvm_ioctl                                                                                    */

static void call(struct out *o, enum fz_call kind, uint8_t fd, unsigned long request,
		 enum fz_arg mode, const void *arg, uint16_t len)
{
	put8(o, (uint8_t)kind);
	put8(o, fd);
	put8(o, kind == FZ_CALL_PRCTL ? (uint8_t)request : fz_request_index(request));
	put8(o, (uint8_t)mode);
	put16(o, len);
	if (mode == FZ_ARG_INT)
		put16(o, (uint16_t)(uintptr_t)arg);
	else if (mode == FZ_ARG_COPY || mode == FZ_ARG_TIGHT)
		put(o, arg, len);
}

static void ioctl_int(struct out *o, uint8_t fd, unsigned long request, uint16_t value)
{
	call(o, FZ_CALL_IOCTL, fd, request, FZ_ARG_INT, (void *)(uintptr_t)value, 0);
}

static void ioctl_keep(struct out *o, uint8_t fd, unsigned long request)
{
	call(o, FZ_CALL_IOCTL, fd, request, FZ_ARG_KEEP, NULL, 0);
}

/* Descriptors in the order they are handed out: 0 system, 1 VM, 2 vCPU. */
enum { SYS = 0, VM = 1, VCPU = 2 };

static void msrs(struct out *o, unsigned long request, uint64_t xss, uint64_t xfd)
{
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + 2 * sizeof(struct kvm_msr_entry)];
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 2;
	m.hdr.entries[0].index = 0xda0; /* IA32_XSS */
	m.hdr.entries[0].data = xss;
	m.hdr.entries[1].index = 0x1c4; /* IA32_XFD */
	m.hdr.entries[1].data = xfd;
	call(o, FZ_CALL_IOCTL, VCPU, request, FZ_ARG_COPY, &m, sizeof(m));
}

static void vmm_sequence(struct out *o)
{
	struct kvm_cpuid2 cpuid;
	struct kvm_msr_list list;
	struct kvm_xcrs xcrs;

	memset(&cpuid, 0, sizeof(cpuid));
	memset(&list, 0, sizeof(list));
	memset(&xcrs, 0, sizeof(xcrs));
	cpuid.nent = 256;
	list.nmsrs = 64;
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].value = 0x7;
	call(o, FZ_CALL_PRCTL, SYS, 4 /* ARCH_REQ_XCOMP_GUEST_PERM */, FZ_ARG_INT,
	     (void *)(uintptr_t)18, 0);
	ioctl_int(o, SYS, KVM_CREATE_VM, 0);
	ioctl_int(o, VM, KVM_CREATE_VCPU, 0);
	ioctl_int(o, SYS, KVM_CHECK_EXTENSION, 208 /* KVM_CAP_XSAVE2 */);
	call(o, FZ_CALL_IOCTL, SYS, KVM_GET_SUPPORTED_CPUID, FZ_ARG_COPY, &cpuid, sizeof(cpuid));
	ioctl_keep(o, VCPU, KVM_SET_CPUID2);
	call(o, FZ_CALL_IOCTL, SYS, KVM_GET_MSR_INDEX_LIST, FZ_ARG_COPY, &list, sizeof(list));
	msrs(o, KVM_GET_MSRS, 0, 0);
	msrs(o, KVM_SET_MSRS, 0x1000, 0x40000);
	call(o, FZ_CALL_IOCTL, VCPU, KVM_SET_XCRS, FZ_ARG_COPY, &xcrs, sizeof(xcrs));
	ioctl_keep(o, VCPU, KVM_GET_XSAVE2);
	ioctl_keep(o, VCPU, KVM_SET_XSAVE);
	ioctl_keep(o, VCPU, KVM_GET_XCRS);
	call(o, FZ_CALL_IOCTL, VCPU, KVM_RUN, FZ_ARG_NULL, NULL, 0);
	call(o, FZ_CALL_IOCTL, VCPU, KVM_RUN, FZ_ARG_NULL, NULL, 0);
	ioctl_keep(o, VCPU, KVM_GET_XSAVE);
	call(o, FZ_CALL_CLOSE, VCPU, 0, FZ_ARG_NULL, NULL, 0);
	ioctl_keep(o, VCPU, KVM_GET_XCRS);
}

static void ioctl_seed(const char *dir, const char *profile, unsigned design, unsigned flavour)
{
	static const char guest[] = "mov-cr4 0x40000\nxsetbv 0 0x7\nout 0x3f8 65\nuse amx\nhlt\n";
	static struct out o;
	char name[96];
	unsigned p = 0;

	o.len = 0;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++)
		if (strcmp(vx_builtin_profile_name(i), profile) == 0)
			p = i;
	put8(&o, (uint8_t)p);
	put8(&o, (uint8_t)(design | flavour << 6));
	put8(&o, sizeof(guest) - 1);
	put(&o, guest, sizeof(guest) - 1);
	vmm_sequence(&o);
	snprintf(name, sizeof(name), "%s-%s-%s", profile,
		 vx_kvm_cet_design_name((enum vx_kvm_cet_design)design),
		 flavour == 3 ? "vendor" : vx_kvm_flavour_name((enum vx_kvm_flavour)flavour));
	save(dir, name, &o);
}

/* ----------------------------------------------------------------------------------------- */
/* vmm_state                                                                                    */

static int model_prctl(void *ctx, int option, unsigned long arg)
{
	return vx_kvm_dev_arch_prctl(ctx, option, arg);
}

static void bundle_seed(const char *dir, const char *profile, int flavour, bool amx)
{
	static struct vx_vmm_bundle b;
	static char text[1u << 20];
	struct vx_kvm_dev_options o;
	struct vx_vmm_capture_options c;
	struct vx_kvm_backend backend;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_dev *dev = NULL;
	struct vx_profile p;
	struct out *seed = malloc(sizeof(*seed));
	char name[96];
	size_t n;

	vx_kvm_dev_options_init(&o);
	o.profile = profile;
	o.flavour = flavour;
	if (vx_profile_builtin(&p, profile, &err) != 0 || vx_kvm_dev_create(&o, &dev, &err) != 0) {
		fprintf(stderr, "%s: %s\n", profile, err.reason);
		exit(1);
	}
	vx_kvm_backend_model(&backend, dev);
	vx_vmm_capture_options_init(&c);
	c.backend = &backend;
	c.origin = "fuzz_gen_seeds: vx_vmm_capture on the model";
	c.arch_prctl = model_prctl;
	c.prctl_ctx = dev;
	c.host = &p;
	c.host_by_name = true;
	c.flavour = flavour;
	c.design = VX_KVM_CET_GUEST_ONLY;
	c.guest_perm_amx = amx;
	c.seed = 0x5eed;
	vx_vmm_bundle_init(&b);
	if (vx_vmm_capture(&c, &b, &err) != 0) {
		fprintf(stderr, "capture on %s: %s\n", profile, err.reason);
		exit(1);
	}
	n = vx_vmm_bundle_format(&b, text, sizeof(text));
	seed->len = 0;
	put(seed, text, n);
	snprintf(name, sizeof(name), "bundle-%s%s", profile, amx ? "-amx" : "");
	save(dir, name, seed);
	free(seed);
	vx_kvm_dev_destroy(dev);
}

int main(int argc, char **argv)
{
	char dir[512];

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/uabi", argv[1]);
	mkdir(dir, 0755);
	for (unsigned p = 0; p < vx_builtin_profile_count(); p++)
		for (unsigned d = 0; d < VX_FPU_CET_DESIGN_COUNT; d++)
			uabi_seed(dir, p, d);
	snprintf(dir, sizeof(dir), "%s/kvm_ioctl", argv[1]);
	mkdir(dir, 0755);
	ioctl_seed(dir, "sapphire-rapids", VX_KVM_CET_GUEST_ONLY, VX_KVM_VMX);
	ioctl_seed(dir, "sapphire-rapids", VX_KVM_CET_KVM_LAZY, VX_KVM_VMX);
	ioctl_seed(dir, "granite-rapids", VX_KVM_CET_ALL_TASKS, 3);
	ioctl_seed(dir, "zen4", VX_KVM_CET_KVM_EAGER, VX_KVM_SVM);
	ioctl_seed(dir, "zen5", VX_KVM_CET_KVM_USER_RETURN, VX_KVM_PVM);
	ioctl_seed(dir, "future-intel-apx", VX_KVM_CET_UNSUPPORTED, 3);
	ioctl_seed(dir, "skylake-server", VX_KVM_CET_GUEST_ONLY, VX_KVM_PVM);
	snprintf(dir, sizeof(dir), "%s/vmm_state", argv[1]);
	mkdir(dir, 0755);
	bundle_seed(dir, "sapphire-rapids", VX_KVM_VMX, true);
	bundle_seed(dir, "zen4", VX_KVM_SVM, false);
	bundle_seed(dir, "skylake-server", VX_KVM_PVM, false);
	return 0;
}
