/* SPDX-License-Identifier: MIT */
/*
 * Invariants over random operation sequences (linux-fpu.md §3.1, §6, §8) on every built-in
 * profile and every CET_S design, with fixed seeds printed on failure: schedules, idles,
 * user register writes and reads (AMX included, with and without permission), fork, clone,
 * exec, exit, permission requests, kernel_fpu_begin/end with clobbered registers,
 * fpu__clear_user_states, and guest sessions (enter, writes, preemption and migration inside
 * KVM_RUN, XFD growth, exit).  After every operation, every fpstate satisfies §3.1's
 * invariants and, in the guest-only design, no host fpstate holds CET_S; each task and guest
 * reads back exactly what it last wrote - so nothing of one is visible to another.
 */
#include "fpu_task_test_util.h"

#define MAX_TASKS  8
#define MAX_GUESTS 4
#define MAX_REGS   16
#define NCPUS	   3
#define OPS	   500
#define FILL_INIT  (-1) /* the register is in its initial configuration */
#define FILL_PKRU  (-2) /* PKRU holds Linux's default */

static const unsigned seeds[] = {1, 0x5eed, 0xc0ffee};

struct sim_task {
	struct vx_fpu_task *t;
	int proc;
	int fill[MAX_REGS];
};

struct sim_guest {
	struct vx_fpu_guest g;
	int owner; /* index of the task that created it, -1 when free */
	bool amx;
	int fill[MAX_REGS];
};

struct sim {
	const char *profile;
	enum vx_fpu_cet_design design;
	unsigned seed;
	uint64_t rng;
	int op;
	struct vx_fpu_system *sys;
	struct vx_fpu_machine *m;
	struct sim_task tasks[MAX_TASKS];
	struct sim_guest guests[MAX_GUESTS];
	bool amx_perm[64]; /* per process id */
	int next_proc;
	const char *regs[MAX_REGS];
	int nregs;
	const char *gregs[MAX_REGS];
	int ngregs;
	bool has_amx;
	unsigned *stats; /* writes, reads, forks, guest sessions, AMX grown, SIGILL */
};

enum { ST_WRITE, ST_READ, ST_CLONE, ST_GUEST, ST_AMX, ST_SIGILL, ST_COUNT };

#define SIM_FAIL(s, ...)                                                                           \
	do {                                                                                       \
		print_error("profile %s design %s seed 0x%x op %d: ", (s)->profile,                \
			    vx_fpu_cet_design_name((s)->design), (s)->seed, (s)->op);              \
		fail_msg(__VA_ARGS__);                                                             \
	} while (0)

static unsigned rnd(struct sim *s, unsigned n)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (unsigned)(s->rng % n);
}

static bool user_has(const struct sim *s, unsigned comp)
{
	return (vx_fpu_user_cfg(s->sys)->max_features & VX_BIT(comp)) != 0;
}

/* The registers exercised: one or two per user component this kernel enables. */
static void pick_registers(struct sim *s)
{
	static const struct {
		const char *name;
		unsigned comp;
	} host[] = {{"xmm1", 1},     {"xmm15", 1}, {"st3", 0},	 {"ymmh3", 2},
		    {"k5", 5},	     {"zmmh7", 6}, {"zmm20", 7}, {"pkru", 9},
		    {"tilecfg", 17}, {"tmm2", 18}, {"r20", 19}},
	  guest[] = {{"xmm2", 1}, {"ymmh4", 2}, {"zmm17", 7}, {"tmm1", 18}};

	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
		if (user_has(s, host[i].comp))
			s->regs[s->nregs++] = host[i].name;
	for (size_t i = 0; i < sizeof(guest) / sizeof(guest[0]); i++)
		if (user_has(s, guest[i].comp))
			s->gregs[s->ngregs++] = guest[i].name;
	if (vx_fpu_guest_cfg(s->sys)->features & FT_CET_S) {
		s->gregs[s->ngregs++] = "pl0_ssp";
		s->gregs[s->ngregs++] = "pl2_ssp";
	}
	s->has_amx = user_has(s, 18);
}

static bool is_amx(const char *reg)
{
	return strncmp(reg, "tmm", 3) == 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Invariants                                                                                   */

static void check_fpstate(struct sim *s, const struct vx_fpstate *f, bool host)
{
	bool compacted = vx_fpu_insns(s->sys)->compacted;
	uint64_t xstate_bv = FT_XSTATE_BV(f), xcomp_bv = FT_XCOMP_BV(f);

	if (f->user_xfeatures & ~(f->xfeatures & VX_FPU_MASK_USER_SUPPORTED))
		SIM_FAIL(s, "user_xfeatures 0x%llx not within xfeatures 0x%llx",
			 (unsigned long long)f->user_xfeatures, (unsigned long long)f->xfeatures);
	if (vx_fpu_xsave_status(s->sys) != VX_FPU_XSAVE_ENABLED)
		return;
	if (xcomp_bv != (compacted ? f->xfeatures | FT_BIT63 : 0))
		SIM_FAIL(s, "xcomp_bv 0x%llx for xfeatures 0x%llx", (unsigned long long)xcomp_bv,
			 (unsigned long long)f->xfeatures);
	if (xstate_bv & ~f->xfeatures)
		SIM_FAIL(s, "XSTATE_BV 0x%llx outside xfeatures 0x%llx",
			 (unsigned long long)xstate_bv, (unsigned long long)f->xfeatures);
	if (f->xfd & f->xfeatures & VX_FPU_MASK_USER_DYNAMIC && f->is_valloc)
		SIM_FAIL(s, "grown fpstate still XFD-armed 0x%llx", (unsigned long long)f->xfd);
	if (host && s->design == VX_FPU_CET_GUEST_ONLY && ((f->xfeatures | xstate_bv) & FT_CET_S))
		SIM_FAIL(s, "a host fpstate holds CET_S (xfeatures 0x%llx XSTATE_BV 0x%llx)",
			 (unsigned long long)f->xfeatures, (unsigned long long)xstate_bv);
}

static void check_invariants(struct sim *s)
{
	for (int i = 0; i < MAX_TASKS; i++) {
		struct vx_fpu_task_info info;

		if (!s->tasks[i].t)
			continue;
		info = ft_info(s->tasks[i].t);
		check_fpstate(s, info.task_fpstate ? info.task_fpstate : info.fpstate, true);
		check_fpstate(s, info.embedded, true);
	}
	for (int i = 0; i < MAX_GUESTS; i++) {
		const struct vx_fpstate *g = s->guests[i].g.fpstate;

		if (s->guests[i].owner < 0)
			continue;
		check_fpstate(s, g, false);
		if (!g->is_guest || g->in_use)
			SIM_FAIL(s, "guest %d: is_guest %d in_use %d between sessions", i,
				 g->is_guest, g->in_use);
	}
	for (unsigned cpu = 0; cpu < NCPUS; cpu++) {
		struct vx_fpu_percpu pc;

		assert_int_equal(vx_fpu_percpu_get(s->m, cpu, &pc), 0);
		if (!pc.kernel_fpu_allowed)
			SIM_FAIL(s, "CPU %u left in a kernel FPU section", cpu);
	}
}

/* ----------------------------------------------------------------------------------------- */
/* Register expectations                                                                        */

/*
 * The bytes written for @fill: a counting pattern; shadow-stack pointers get a canonical,
 * 4-byte aligned value instead (XRSTORS checks them like WRMSR, arch.md §7.2).
 */
static void encode(const struct vx_reg_info *r, int fill, uint8_t *value)
{
	uint64_t ssp = (uint64_t)fill * 16;

	for (unsigned i = 0; i < r->width; i++)
		value[i] = fill >= 0 ? (uint8_t)(fill + i) : 0;
	if (fill == FILL_PKRU)
		memcpy(value, &(uint32_t){0x55555554u}, 4);
	if (strstr(r->name, "_ssp") && fill >= 0)
		memcpy(value, &ssp, sizeof(ssp));
}

static bool reads_as(struct sim *s, struct vx_fpu_task *t, struct vx_fpu_guest *g, const char *name,
		     int fill)
{
	const struct vx_reg_info *r = ft_reg(name);
	struct vx_error err = VX_ERROR_INIT;
	uint8_t value[1024], want[1024];
	int rc = g ? vx_fpu_guest_get_reg(t, g, r, value, r->width, &err)
		   : vx_fpu_task_get_reg(t, r, value, r->width, &err);

	if (rc)
		SIM_FAIL(s, "reading %s: %s", name, err.reason);
	encode(r, fill, want);
	return memcmp(value, want, r->width) == 0;
}

static void expect_reg(struct sim *s, int ti, struct sim_guest *sg, int reg)
{
	const char *name = sg ? s->gregs[reg] : s->regs[reg];
	int fill = sg ? sg->fill[reg] : s->tasks[ti].fill[reg];

	if (!reads_as(s, s->tasks[ti].t, sg ? &sg->g : NULL, name, fill))
		SIM_FAIL(s, "task %d%s: %s is not what it last wrote (fill %d)", ti,
			 sg ? "'s guest" : "", name, fill);
}

static void init_fills(struct sim *s, int *fill)
{
	for (int r = 0; r < MAX_REGS; r++)
		fill[r] = r < s->nregs && strcmp(s->regs[r], "pkru") == 0 ? FILL_PKRU : FILL_INIT;
}

/* ----------------------------------------------------------------------------------------- */
/* Operations                                                                                   */

static int free_slot(struct sim *s)
{
	for (int i = 0; i < MAX_TASKS; i++)
		if (!s->tasks[i].t)
			return i;
	return -1;
}

static int random_task(struct sim *s, bool running)
{
	int start = (int)rnd(s, MAX_TASKS);

	for (int k = 0; k < MAX_TASKS; k++) {
		int i = (start + k) % MAX_TASKS;

		if (s->tasks[i].t && (!running || ft_info(s->tasks[i].t).cpu >= 0))
			return i;
	}
	return -1;
}

static void op_spawn(struct sim *s)
{
	int i = free_slot(s);

	if (i < 0)
		return;
	s->tasks[i].t = ft_spawn(s->m);
	s->tasks[i].proc = s->next_proc++ % 64;
	s->amx_perm[s->tasks[i].proc] = false;
	init_fills(s, s->tasks[i].fill);
}

static void op_schedule(struct sim *s)
{
	int i = random_task(s, false);

	if (i >= 0)
		ft_schedule(s->tasks[i].t, rnd(s, NCPUS));
}

static void op_idle(struct sim *s)
{
	assert_int_equal(vx_fpu_cpu_idle(s->m, rnd(s, NCPUS), NULL), 0);
}

static void op_write(struct sim *s)
{
	int i = random_task(s, true), reg = (int)rnd(s, (unsigned)s->nregs);
	const struct vx_reg_info *r = ft_reg(s->regs[reg]);
	int fill = 1 + (int)rnd(s, 200);
	struct vx_fpu_user_result res;
	struct vx_error err = VX_ERROR_INIT;
	uint8_t value[1024];

	if (i < 0)
		return;
	for (unsigned b = 0; b < r->width; b++)
		value[b] = (uint8_t)(fill + b);
	ft_check(vx_fpu_task_set_reg(s->tasks[i].t, r, value, r->width, &res, &err), &err, "write");
	if (is_amx(r->name) && !s->amx_perm[s->tasks[i].proc]) {
		if (res.retired || res.signal != VX_SIGILL)
			SIM_FAIL(s, "AMX without permission: retired %d signal %d", res.retired,
				 res.signal);
		s->stats[ST_SIGILL]++;
		return;
	}
	if (!res.retired)
		SIM_FAIL(s, "writing %s did not retire: %s", r->name, res.event.reason);
	s->tasks[i].fill[reg] = fill;
	s->stats[ST_WRITE]++;
	s->stats[ST_AMX] += res.nm_events;
}

/* No guest's CET_S is left in the registers of a host task (§6: restore mask has bit 12). */
static void check_no_guest_cet_s(struct sim *s, int i)
{
	uint64_t ssp = 1;
	struct vx_cpu *cpu = vx_fpu_machine_cpu(s->m, (unsigned)ft_info(s->tasks[i].t).cpu);

	if (vx_fpu_task_return_to_user(s->tasks[i].t, NULL) != 0)
		SIM_FAIL(s, "return to user failed");
	if (vx_cpu_get_reg(cpu, ft_reg("pl0_ssp"), &ssp, 8) == 0 && ssp != 0)
		SIM_FAIL(s, "task %d runs with a guest's PL0_SSP 0x%llx", i,
			 (unsigned long long)ssp);
}

static void op_read(struct sim *s)
{
	int i = random_task(s, true);

	if (i >= 0)
		check_no_guest_cet_s(s, i);

	if (i >= 0)
		expect_reg(s, i, NULL, (int)rnd(s, (unsigned)s->nregs));
	s->stats[ST_READ] += i >= 0;
}

/* fpu_clone: the child has the parent's registers, except AMX tile data (§8.4). */
static void op_clone(struct sim *s, bool thread)
{
	int p = random_task(s, true), c = free_slot(s);
	struct vx_error err = VX_ERROR_INIT;
	struct vx_fpu_task *child = NULL;

	if (p < 0 || c < 0)
		return;
	ft_check(thread ? vx_fpu_task_clone_thread(s->tasks[p].t, &child, &err)
			: vx_fpu_task_fork(s->tasks[p].t, &child, &err),
		 &err, "clone");
	s->tasks[c].t = child;
	s->stats[ST_CLONE]++;
	memcpy(s->tasks[c].fill, s->tasks[p].fill, sizeof(s->tasks[c].fill));
	for (int r = 0; r < s->nregs; r++)
		if (is_amx(s->regs[r]))
			s->tasks[c].fill[r] = FILL_INIT;
	s->tasks[c].proc = s->tasks[p].proc;
	if (!thread) {
		s->tasks[c].proc = s->next_proc++ % 64;
		s->amx_perm[s->tasks[c].proc] = s->amx_perm[s->tasks[p].proc];
	}
}

static void free_guests_of(struct sim *s, int owner)
{
	for (int g = 0; g < MAX_GUESTS; g++) {
		if (s->guests[g].owner != owner)
			continue;
		assert_int_equal(vx_fpu_free_guest_fpstate(&s->guests[g].g, NULL), 0);
		s->guests[g].owner = -1;
	}
}

/* exec kills the other threads of the process (§8.4: de_thread, then fpu_flush_thread). */
static void op_exec(struct sim *s)
{
	int i = random_task(s, false), proc;

	if (i < 0)
		return;
	proc = s->tasks[i].proc;
	for (int k = 0; k < MAX_TASKS; k++) {
		if (s->tasks[k].t && s->tasks[k].proc == proc) {
			free_guests_of(s, k);
			if (k != i)
				s->tasks[k].t = NULL;
		}
	}
	assert_int_equal(vx_fpu_task_exec(s->tasks[i].t, NULL), 0);
	s->tasks[i].proc = s->next_proc++ % 64;
	s->amx_perm[s->tasks[i].proc] = false;
	init_fills(s, s->tasks[i].fill);
}

static void op_exit(struct sim *s)
{
	int i = random_task(s, false);

	if (i < 0)
		return;
	free_guests_of(s, i);
	assert_int_equal(vx_fpu_task_exit(s->tasks[i].t, NULL), 0);
	s->tasks[i].t = NULL;
}

static void op_request(struct sim *s)
{
	int i = random_task(s, false);
	int rc;

	if (i < 0)
		return;
	rc = ft_prctl(s->tasks[i].t, VX_ARCH_REQ_XCOMP_PERM, 18, NULL);
	if (rc != (s->has_amx ? 0 : -EOPNOTSUPP))
		SIM_FAIL(s, "ARCH_REQ_XCOMP_PERM(18) = %d", rc);
	if (rc == 0)
		s->amx_perm[s->tasks[i].proc] = true;
	ft_prctl(s->tasks[i].t, VX_ARCH_REQ_XCOMP_GUEST_PERM, 18, NULL);
}

/* Kernel code uses SSE between kernel_fpu_begin/end (§8.4). */
static void op_kernel_fpu(struct sim *s)
{
	unsigned cpu = rnd(s, NCPUS);
	uint8_t junk[16];
	struct vx_event event;

	memset(junk, 0xC3, sizeof(junk));
	assert_int_equal(vx_fpu_kernel_fpu_begin(s->m, cpu, VX_KFPU_MXCSR, NULL), 0);
	vx_cpu_set_reg(vx_fpu_machine_cpu(s->m, cpu), ft_reg("xmm1"), junk, 16, &event);
	vx_cpu_set_reg(vx_fpu_machine_cpu(s->m, cpu), ft_reg("xmm15"), junk, 16, &event);
	assert_int_equal(vx_fpu_kernel_fpu_end(s->m, cpu, NULL), 0);
}

static void op_clear_user_states(struct sim *s)
{
	int i = random_task(s, true);

	if (i < 0)
		return;
	assert_int_equal(vx_fpu_task_clear_user_states(s->tasks[i].t, NULL), 0);
	init_fills(s, s->tasks[i].fill);
}

/* ----------------------------------------------------------------------------------------- */
/* Guest sessions (§6)                                                                          */

static struct sim_guest *guest_of(struct sim *s, int owner)
{
	for (int g = 0; g < MAX_GUESTS; g++)
		if (s->guests[g].owner == owner)
			return &s->guests[g];
	for (int g = 0; g < MAX_GUESTS; g++) {
		struct sim_guest *sg = &s->guests[g];

		if (sg->owner >= 0)
			continue;
		struct vx_error err = VX_ERROR_INIT;

		ft_check(vx_fpu_alloc_guest_fpstate(s->tasks[owner].t, &sg->g, &err), &err,
			 "alloc guest");
		sg->owner = owner;
		sg->amx = false;
		for (int r = 0; r < MAX_REGS; r++)
			sg->fill[r] = FILL_INIT;
		return sg;
	}
	return NULL;
}

static void guest_write(struct sim *s, int ti, struct sim_guest *sg)
{
	int reg = (int)rnd(s, (unsigned)s->ngregs), fill = 1 + (int)rnd(s, 200);
	const struct vx_reg_info *r = ft_reg(s->gregs[reg]);
	struct vx_event event;
	uint8_t value[1024];

	if (is_amx(r->name) && !sg->amx)
		return; /* KVM would not let the guest enable it */
	encode(r, fill, value);
	if (vx_fpu_guest_set_reg(s->tasks[ti].t, &sg->g, r, value, r->width, &event, NULL) != 0)
		SIM_FAIL(s, "guest write of %s: %s", r->name, event.reason);
	sg->fill[reg] = fill;
}

/* Another task takes the vCPU thread's CPU; the thread comes back, maybe elsewhere. */
static void preempt(struct sim *s, int ti)
{
	int other = random_task(s, false);

	if (other >= 0 && other != ti)
		ft_schedule(s->tasks[other].t, (unsigned)ft_info(s->tasks[ti].t).cpu);
	ft_schedule(s->tasks[ti].t, rnd(s, NCPUS));
}

static void guest_step(struct sim *s, int ti, struct sim_guest *sg)
{
	switch (rnd(s, 4)) {
	case 0:
		guest_write(s, ti, sg);
		break;
	case 1:
		expect_reg(s, ti, sg, (int)rnd(s, (unsigned)s->ngregs));
		break;
	case 2:
		preempt(s, ti);
		break;
	default:
		if (s->has_amx && !sg->amx &&
		    vx_fpu_enable_guest_xfd_features(s->tasks[ti].t, &sg->g, FT_XTILEDATA, NULL) ==
			0)
			sg->amx = (sg->g.xfeatures & FT_XTILEDATA) != 0;
		break;
	}
}

static void op_guest_session(struct sim *s)
{
	int ti = random_task(s, true);
	struct sim_guest *sg = ti >= 0 ? guest_of(s, ti) : NULL;
	struct vx_error err = VX_ERROR_INIT;

	if (!sg)
		return;
	ft_check(vx_fpu_swap_kvm_fpstate(s->tasks[ti].t, &sg->g, true, &err), &err, "enter");
	s->stats[ST_GUEST]++;
	for (unsigned n = 1 + rnd(s, 5); n > 0; n--)
		guest_step(s, ti, sg);
	if (ft_info(s->tasks[ti].t).cpu < 0)
		ft_schedule(s->tasks[ti].t, rnd(s, NCPUS));
	ft_check(vx_fpu_swap_kvm_fpstate(s->tasks[ti].t, &sg->g, false, &err), &err, "exit");
}

/* ----------------------------------------------------------------------------------------- */
/* Driver                                                                                       */

static void (*const ops[])(struct sim *s) = {
    op_spawn,	      op_schedule,
    op_schedule,      op_idle,
    op_write,	      op_write,
    op_write,	      op_read,
    op_read,	      op_request,
    op_kernel_fpu,    op_exec,
    op_exit,	      op_clear_user_states,
    op_guest_session, op_guest_session,
};

static void op_fork(struct sim *s)
{
	op_clone(s, false);
}

static void op_thread(struct sim *s)
{
	op_clone(s, true);
}

static void run_op(struct sim *s)
{
	unsigned n = sizeof(ops) / sizeof(ops[0]);
	unsigned k = rnd(s, n + 2);

	if (k == n)
		op_fork(s);
	else if (k == n + 1)
		op_thread(s);
	else
		ops[k](s);
}

/* Every live task (and its guest) reads back everything it wrote. */
static void final_check(struct sim *s)
{
	for (int i = 0; i < MAX_TASKS; i++) {
		struct sim_guest *sg;

		if (!s->tasks[i].t)
			continue;
		ft_schedule(s->tasks[i].t, (unsigned)i % NCPUS);
		for (int r = 0; r < s->nregs; r++)
			expect_reg(s, i, NULL, r);
		for (sg = s->guests; sg < s->guests + MAX_GUESTS; sg++) {
			if (sg->owner != i)
				continue;
			assert_int_equal(vx_fpu_swap_kvm_fpstate(s->tasks[i].t, &sg->g, true, NULL),
					 0);
			for (int r = 0; r < s->ngregs; r++)
				expect_reg(s, i, sg, r);
			assert_int_equal(
			    vx_fpu_swap_kvm_fpstate(s->tasks[i].t, &sg->g, false, NULL), 0);
		}
	}
}

static void run_sim(const char *profile, enum vx_fpu_cet_design design, unsigned seed,
		    unsigned *stats)
{
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->stats = stats;
	s->profile = profile;
	s->design = design;
	s->seed = seed;
	s->rng = 0x9E3779B97F4A7C15ull ^ seed;
	s->sys = ft_boot(profile, design, NULL);
	s->m = ft_machine(s->sys, NCPUS);
	for (int g = 0; g < MAX_GUESTS; g++)
		s->guests[g].owner = -1;
	pick_registers(s);
	op_spawn(s);
	op_spawn(s);
	for (s->op = 0; s->op < OPS; s->op++) {
		run_op(s);
		check_invariants(s);
	}
	final_check(s);
	for (int i = 0; i < MAX_TASKS; i++)
		free_guests_of(s, i);
	vx_fpu_machine_destroy(s->m);
	vx_fpu_system_destroy(s->sys);
	free(s);
}

static void test_invariants_every_profile_and_design(void **state)
{
	unsigned runs = 0, stats[ST_COUNT] = {0};

	(void)state;
	for (unsigned p = 0; p < vx_builtin_profile_count(); p++)
		for (int d = 0; d < VX_FPU_CET_DESIGN_COUNT; d++)
			for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++, runs++)
				run_sim(vx_builtin_profile_name(p), (enum vx_fpu_cet_design)d,
					seeds[k], stats);
	print_message("%u runs of %d operations: %u writes, %u reads, %u forks/clones, %u guest "
		      "sessions, %u AMX first uses, %u SIGILL\n",
		      runs, OPS, stats[ST_WRITE], stats[ST_READ], stats[ST_CLONE], stats[ST_GUEST],
		      stats[ST_AMX], stats[ST_SIGILL]);
	for (int k = 0; k < ST_COUNT; k++)
		assert_true(stats[k] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_invariants_every_profile_and_design),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
