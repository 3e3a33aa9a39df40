/* SPDX-License-Identifier: MIT */
/*
 * The drop-in /dev/kvm's guest (issue 8: "KVM_RUN runs the vCPU's guest script if one is
 * given"): a guest program file (VXSAVE_KVM_GUEST, text as vx_kvm_guest_program_parse() reads
 * it) run by every vCPU from its own start, each KVM_RUN going on until the next exit to
 * userspace; the exit is written into the vCPU's kvm_run page as <linux/kvm.h> lays it out.
 */
#include <stdio.h>
#include <stdlib.h>

#include <linux/kvm.h>

#include "kvm/dev_internal.h"

#define GUEST_MAX_OPS	 4096u
#define GUEST_MAX_VCPUS	 64u
#define GUEST_FILE_LIMIT (1u << 20)

struct vx_dev_guest {
	struct vx_kvm_guest_op ops[GUEST_MAX_OPS];
	unsigned count;
	struct {
		struct vx_kvm_vcpu *vcpu;
		struct vx_kvm_run run;
	} slots[GUEST_MAX_VCPUS];
};

static struct vx_kvm_run *slot_of(struct vx_dev_guest *g, struct vx_kvm_vcpu *vcpu)
{
	for (unsigned i = 0; i < GUEST_MAX_VCPUS; i++) {
		if (!g->slots[i].vcpu) {
			g->slots[i].vcpu = vcpu;
			g->slots[i].run.ops = g->ops;
			g->slots[i].run.count = g->count;
		}
		if (g->slots[i].vcpu == vcpu)
			return &g->slots[i].run;
	}
	return NULL;
}

/* KVM_EXIT_IO, OUT of the smallest size that holds the value, data after struct kvm_run. */
static void exit_io(struct kvm_run *k, const struct vx_kvm_guest_op *op)
{
	uint32_t v = (uint32_t)op->value;

	k->io.direction = KVM_EXIT_IO_OUT;
	k->io.size = op->value < 0x100 ? 1 : op->value < 0x10000 ? 2 : 4;
	k->io.port = (uint16_t)op->index;
	k->io.count = 1;
	k->io.data_offset = sizeof(*k);
	memcpy((uint8_t *)k + sizeof(*k), &v, k->io.size);
}

static int guest_hook(void *ctx, struct vx_kvm_dev *dev, struct vx_kvm_vcpu *vcpu, void *page,
		      struct vx_error *err)
{
	struct vx_kvm_run *run = slot_of(ctx, vcpu);
	struct kvm_run *k = page;
	int rc;

	if (!run)
		return vx_error_set(err, -ENOMEM, "kvm_ioctl.h", "more than %u vCPUs run the guest",
				    GUEST_MAX_VCPUS);
	/* A guest past its last instruction stays halted. */
	rc = run->pc < run->count ? vx_kvm_vcpu_run(vcpu, dev->task, 0, run, 0, err)
				  : VX_KVM_RUN_DONE;
	if (rc < 0)
		return rc;
	k->exit_reason = KVM_EXIT_HLT;
	if (rc == VX_KVM_RUN_EXIT && run->exit_reason == VX_KVM_EXIT_IO) {
		k->exit_reason = KVM_EXIT_IO;
		exit_io(k, &run->ops[run->pc - 1]);
	}
	/* The emulator stopped (kvm_emulate.h; quirk pvm-cpl0-emulated): its suberror, which
	 * is EMULATION when the run did not say. */
	if (rc == VX_KVM_RUN_EXIT && run->exit_reason == VX_KVM_EXIT_INTERNAL_ERROR) {
		k->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		k->internal.suberror =
		    run->internal_suberror ? run->internal_suberror : KVM_INTERNAL_ERROR_EMULATION;
		k->internal.ndata = 0;
	}
	return 0;
}

static int read_file(const struct vx_kvm_dev *dev, const char *path, char **text, size_t *len,
		     struct vx_error *err)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return vx_error_set(err, -ENOENT, "kvm_ioctl.h", "VXSAVE_KVM_GUEST=%s: cannot open",
				    path);
	*text = vx_dev_alloc(dev, GUEST_FILE_LIMIT + 1);
	n = *text ? fread(*text, 1, GUEST_FILE_LIMIT + 1, f) : 0;
	fclose(f);
	if (!*text)
		return vx_error_set(err, -ENOMEM, "kvm_ioctl.h", "no memory to read %s", path);
	if (n > GUEST_FILE_LIMIT) {
		vx_dev_free(dev, *text);
		return vx_error_set(err, -EFBIG, "kvm_ioctl.h",
				    "VXSAVE_KVM_GUEST=%s: larger than %u bytes", path,
				    GUEST_FILE_LIMIT);
	}
	*len = n;
	return 0;
}

int vx_kvm_dev_load_guest(struct vx_kvm_dev *dev, const char *path, struct vx_error *err)
{
	struct vx_dev_guest *g;
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(dev, path, &text, &len, err);

	if (rc)
		return rc;
	g = vx_dev_alloc(dev, sizeof(*g));
	rc = g ? vx_kvm_guest_program_parse(text, len, g->ops, GUEST_MAX_OPS, &g->count, err)
	       : vx_error_set(err, -ENOMEM, "kvm_ioctl.h", "cannot allocate the guest");
	vx_dev_free(dev, text);
	if (rc) {
		vx_dev_free(dev, g);
		return rc;
	}
	vx_dev_free(dev, dev->guest);
	dev->guest = g;
	vx_kvm_dev_set_run_hook(dev, guest_hook, g);
	return 0;
}
