/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the drop-in /dev/kvm (kvm_ioctl.h) taking arbitrary requests and argument
 * bytes, as it does from programs it did not write.  Every input gets a fresh model context
 * (vx_kvm_dev on a built-in profile; never the real /dev/kvm), built on an fpu system booted once
 * per profile and design (fz_system(); immutable, so shared), and runs up to FZ_CALLS_MAX calls:
 * ioctls on its system, VM and vCPU descriptors (and on descriptors it does not own), open,
 * close, arch_prctl and the mmap check.  Arguments point into a fuzzer-owned arena (64 KiB
 * followed by an inaccessible guard page), either at its start or ending exactly at the guard,
 * or are NULL, a pointer the model must refuse without touching (kernel half, wrap-around,
 * the NULL page) or a plain integer.  safe_copy is on, so a read past what the input supplied
 * ends in the guard page as EFAULT, as copy_from_user() gives.  KVM_RUN runs a guest program
 * taken from the input (kvm_run.h) through a run hook.
 *
 * Input: fuzz_kvm_ioctl.h (a host, a guest program, then the calls).  A flavour that does not
 * fit the profile's vendor is refused by the model, which is a path too.
 *
 * Property besides no crash/UB/leak: every failing call returns -1 with errno set and a last
 * error whose code is -errno and whose reason is not empty (kvm_ioctl.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vxsave/kvm_ioctl.h>
#include <vxsave/kvm_run.h>

#include "fuzz_kvm_ioctl.h"
#include "fuzz_util.h"

#define PAGE	    4096u
#define FDS_MAX	    64u
#define GUEST_OPS   32u
#define GUEST_SLOTS 8u

/* Pointers the model must refuse without touching them (kvm_ioctl.h); the guard page is the
 * fifth. */
static const uint64_t wild[] = {0x10, 0xfff, UINT64_C(0xffff800000000000),
				UINT64_C(0xfffffffffffffff0)};

struct guest {
	struct vx_kvm_guest_op ops[GUEST_OPS];
	unsigned count;
	struct {
		struct vx_kvm_vcpu *vcpu;
		struct vx_kvm_run run;
	} slots[GUEST_SLOTS];
};

struct state {
	struct vx_kvm_dev *dev;
	uint8_t *arena;
	int fds[FDS_MAX];
	unsigned nfds;
	struct guest guest;
};

/* The run hook: the input's guest program from its start on each vCPU, up to its next exit. */
static int run_hook(void *ctx, struct vx_kvm_dev *dev, struct vx_kvm_vcpu *vcpu, void *page,
		    struct vx_error *err)
{
	struct guest *g = ctx;
	struct kvm_run *k = page;

	for (unsigned i = 0; i < GUEST_SLOTS; i++) {
		struct vx_kvm_run *r = &g->slots[i].run;
		int rc;

		if (g->slots[i].vcpu && g->slots[i].vcpu != vcpu)
			continue;
		if (!g->slots[i].vcpu) {
			g->slots[i].vcpu = vcpu;
			r->ops = g->ops;
			r->count = g->count;
		}
		rc = r->pc < r->count ? vx_kvm_vcpu_run(vcpu, vx_kvm_dev_task(dev), 0, r, 0, err)
				      : VX_KVM_RUN_DONE;
		k->exit_reason = rc == VX_KVM_RUN_EXIT ? r->exit_reason : KVM_EXIT_HLT;
		return rc < 0 ? rc : 0;
	}
	return vx_error_set(err, -ENOMEM, NULL, "more than %u vCPUs ran", GUEST_SLOTS);
}

static int pick_fd(struct state *s, uint8_t sel)
{
	static const int others[] = {-1, 0, 2, 1023, 65535};

	if (sel < 0xF0 && s->nfds)
		return s->fds[sel % s->nfds];
	return others[sel % 5];
}

static void remember(struct state *s, int fd)
{
	if (fd >= 0 && s->nfds < FDS_MAX)
		s->fds[s->nfds++] = fd;
}

static void check_failure(const struct state *s, int rc, const char *what)
{
	const struct vx_error *last = vx_kvm_dev_last_error(s->dev);

	if (rc != -1)
		fz_fail("%s returned %d", what, rc);
	if (errno <= 0)
		fz_fail("%s failed without errno", what);
	if (last->code != -errno || !last->reason[0])
		fz_fail("%s: errno %d but last error %d '%s'", what, errno, last->code,
			last->reason);
}

/* The argument: arena bytes at the start or ending at the guard, the arena as it is, or a
 * non-pointer (fuzz_kvm_ioctl.h, enum fz_arg). */
static void *argument(struct state *s, struct fz *f, uint8_t mode, uint16_t len)
{
	uint8_t *at;

	uint8_t w;

	switch (mode % 8) {
	case FZ_ARG_NULL:
		return NULL;
	case FZ_ARG_WILD:
		w = fz_u8(f) % 5;
		return w < 4 ? (void *)(uintptr_t)wild[w] : s->arena + FZ_ARENA_SIZE;
	case FZ_ARG_INT:
		/* An integer argument (KVM_CHECK_EXTENSION, KVM_CREATE_VCPU...): below 4096, so
		 * that as a pointer it is the NULL page, never memory of this process. */
		return (void *)(uintptr_t)(fz_u16(f) & 0xfff);
	case FZ_ARG_TIGHT:
		at = s->arena + FZ_ARENA_SIZE - len;
		break;
	case FZ_ARG_KEEP:
		/* The arena as the calls before left it (outputs fed back as inputs). */
		return s->arena;
	default:
		at = s->arena;
		break;
	}
	fz_bytes(f, at, len);
	return at;
}

/* One call as fuzz_kvm_ioctl.h lays it out. */
static void one_call(struct state *s, struct fz *f)
{
	enum fz_call kind = (enum fz_call)(fz_u8(f) % FZ_CALL_COUNT);
	int fd = pick_fd(s, fz_u8(f)), rc;
	uint8_t req = fz_u8(f);
	uint32_t raw = kind == FZ_CALL_RAW_IOCTL ? fz_u32(f) : 0;
	uint8_t mode = fz_u8(f);
	uint16_t len = (uint16_t)(fz_u16(f) % FZ_ARENA_SIZE);
	unsigned long request = kind == FZ_CALL_RAW_IOCTL ? raw : fz_requests[req % FZ_NREQUESTS];
	void *arg = argument(s, f, mode, len);

	errno = 0;
	switch (kind) {
	case FZ_CALL_OPEN:
		rc = vx_kvm_dev_open(s->dev, 0);
		remember(s, rc);
		return;
	case FZ_CALL_CLOSE:
		rc = vx_kvm_close(s->dev, fd);
		return;
	case FZ_CALL_PRCTL:
		rc = vx_kvm_dev_arch_prctl(s->dev, fz_prctl_options[req % FZ_NPRCTL],
					   (unsigned long)arg);
		return;
	case FZ_CALL_MMAP:
		(void)vx_kvm_dev_mmap_check(s->dev, fd, len, (long long)(int8_t)mode * PAGE);
		return;
	default:
		rc = vx_kvm_ioctl(s->dev, fd, request, arg);
		break;
	}
	if (rc < 0)
		check_failure(s, rc, "ioctl");
	else if (request == KVM_CREATE_VM || request == KVM_CREATE_VCPU)
		remember(s, rc);
}

static void guest_program(struct state *s, struct fz *f)
{
	static char text[256];
	struct vx_error err = VX_ERROR_INIT;
	uint8_t n = fz_u8(f);

	memset(&s->guest, 0, sizeof(s->guest));
	fz_bytes(f, text, n);
	if (vx_kvm_guest_program_parse(text, n, s->guest.ops, GUEST_OPS, &s->guest.count, &err) ==
		0 &&
	    s->guest.count)
		vx_kvm_dev_set_run_hook(s->dev, run_hook, &s->guest);
}

static uint8_t *arena(void)
{
	static uint8_t *a;

	if (!a) {
		a = mmap(NULL, FZ_ARENA_SIZE + PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a == MAP_FAILED || mprotect(a + FZ_ARENA_SIZE, PAGE, PROT_NONE) != 0)
			fz_fail("cannot map the arena");
	}
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state s;
	struct fz f = {data, size};
	struct vx_kvm_dev_options o;
	struct vx_error err = VX_ERROR_INIT;
	uint8_t p = fz_u8(&f), d = fz_u8(&f);

	memset(&s, 0, sizeof(s));
	s.arena = arena();
	memset(s.arena, 0, FZ_ARENA_SIZE);
	vx_kvm_dev_options_init(&o);
	o.design = d % VX_KVM_CET_DESIGN_COUNT;
	o.system = fz_system(&(struct fz_host){p % vx_builtin_profile_count(), o.design, -1});
	o.flavour = (d >> 6) == 3 ? -1 : d >> 6;
	o.sysfs_module = "/nonexistent"; /* never the real module's parameters */
	o.safe_copy = true;
	if (vx_kvm_dev_create(&o, &s.dev, &err) != 0)
		return 0;
	guest_program(&s, &f);
	remember(&s, vx_kvm_dev_open(s.dev, 0));
	for (unsigned i = 0; i < FZ_CALLS_MAX && f.size; i++)
		one_call(&s, &f);
	vx_kvm_dev_destroy(s.dev);
	return 0;
}
