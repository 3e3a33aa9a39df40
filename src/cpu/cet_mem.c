/* SPDX-License-Identifier: MIT */
/*
 * Memory accesses of the CET instructions and transfers under the page rules of arch.md §7.4,
 * and the write log that makes them all-or-nothing: every access is checked before anything is
 * written, so a fault leaves memory and the processor unchanged.
 */
#include <errno.h>
#include <stdio.h>

#include "cpu/cet_internal.h"

size_t vx_cpu_memory_pages(const struct vx_memory *window)
{
	uint64_t last;

	if (!window || window->size == 0)
		return 0;
	/* A window that would wrap the address space ends at the top page (and is refused). */
	last = window->size - 1 > UINT64_MAX - window->base ? UINT64_MAX
							    : window->base + window->size - 1;
	return (size_t)((last >> 12) - (window->base >> 12) + 1);
}

int mem_args_check(const struct vx_cpu_memory *mem, const char *who, struct vx_event *event)
{
	if (!mem)
		return cet_misuse(event, "%s: NULL memory", who);
	if (!mem->window.bytes && mem->window.size != 0)
		return cet_misuse(event, "%s: memory window of %zu bytes without bytes", who,
				  mem->window.size);
	if (mem->window.size != 0 && mem->window.size - 1 > UINT64_MAX - mem->window.base)
		return cet_misuse(event, "%s: memory window at 0x%llx wraps the address space", who,
				  (unsigned long long)mem->window.base);
	if (mem->attr && mem->pages < vx_cpu_memory_pages(&mem->window))
		return cet_misuse(event, "%s: %zu page attributes for a window of %zu pages", who,
				  mem->pages, vx_cpu_memory_pages(&mem->window));
	return 0;
}

static bool inside_window(const struct vx_memory *w, uint64_t address)
{
	return address >= w->base && address - w->base < w->size;
}

/* The attributes of the page holding @address (the address is inside the window). */
static unsigned page_attr(const struct vx_cpu_memory *mem, uint64_t address)
{
	if (!mem->attr)
		return 0;
	return mem->attr[(address >> 12) - (mem->window.base >> 12)];
}

static uint32_t pf_code(const struct mem_access *a, bool present)
{
	return (present ? (uint32_t)VX_PF_PRESENT : 0u) | (a->write ? (uint32_t)VX_PF_WRITE : 0u) |
	       (a->user ? (uint32_t)VX_PF_USER : 0u) | (a->shadow ? (uint32_t)VX_PF_SS : 0u);
}

static int page_fault(struct vx_event *event, const struct mem_access *a, uint64_t address,
		      bool present, enum vx_event_cause cause, const char *why)
{
	if (!event)
		return VX_FAULTED;
	raise_exception(event, VX_VEC_PF, cause, "arch.md §7.4", "%s%s %s of 0x%llx: %s",
			a->user ? "user " : "supervisor ", a->shadow ? "shadow-stack" : "data",
			a->write ? "write" : "read", (unsigned long long)address, why);
	event->error_code = pf_code(a, present);
	event->address = address;
	return VX_FAULTED;
}

/* §7.4: a shadow-stack access needs a shadow-stack page whose U/S matches the access. */
static int check_shadow_page(const struct mem_access *a, unsigned attr, uint64_t address,
			     struct vx_event *event)
{
	if (!(attr & VX_PAGE_SHADOW_STACK))
		return page_fault(event, a, address, true, VX_CAUSE_SS_PAGE,
				  "not a shadow-stack page (R/W=0, Dirty=1)");
	/* §7.4: supervisor shadow-stack accesses may not touch U=1 pages, user ones U=0 pages. */
	if (!(attr & VX_PAGE_USER) != !a->user)
		return page_fault(event, a, address, true, VX_CAUSE_SS_PAGE,
				  a->user ? "a supervisor shadow-stack page"
					  : "a user shadow-stack page");
	return 0;
}

/* §7.4 and SDM Vol.3 §4.6: the rules for ordinary data accesses. */
static int check_data_page(const struct vx_cpu *cpu, const struct mem_access *a, unsigned attr,
			   uint64_t address, struct vx_event *event)
{
	bool read_only = attr & (VX_PAGE_READ_ONLY | VX_PAGE_SHADOW_STACK);

	/* SDM §4.6: user accesses need U/S = 1. */
	if (a->user && !(attr & VX_PAGE_USER))
		return page_fault(event, a, address, true, VX_CAUSE_PAGE_PROTECTION,
				  "a supervisor page");
	/* §7.4: ordinary writes to a shadow-stack page fault like writes to any read-only page;
	 * supervisor writes only with CR0.WP = 1 (SDM §4.6). */
	if (a->write && read_only && (a->user || (cpu->control.cr0 & VX_CR0_WP)))
		return page_fault(event, a, address, true, VX_CAUSE_PAGE_PROTECTION,
				  attr & VX_PAGE_SHADOW_STACK ? "a shadow-stack page (read-only)"
							      : "a read-only page");
	return 0;
}

/* The bytes [first, last] all lie in one page. */
static int check_chunk(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem,
		       const struct mem_access *a, uint64_t first, uint64_t last,
		       struct vx_event *event)
{
	unsigned attr;

	/* §5.0: #PF on the lowest byte that is not mapped. */
	if (!inside_window(&mem->window, first))
		return page_fault(event, a, first, false, VX_CAUSE_NOT_MAPPED, "not present");
	if (!inside_window(&mem->window, last))
		return page_fault(event, a, mem->window.base + mem->window.size, false,
				  VX_CAUSE_NOT_MAPPED, "not present");
	attr = page_attr(mem, first);
	if (attr & VX_PAGE_NOT_PRESENT)
		return page_fault(event, a, first, false, VX_CAUSE_NOT_MAPPED, "page not present");
	if (a->shadow)
		return check_shadow_page(a, attr, first, event);
	return check_data_page(cpu, a, attr, first, event);
}

int mem_check(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, const struct mem_access *a,
	      struct vx_event *event)
{
	uint64_t first = a->addr;
	uint64_t remaining = a->len;

	/* §5.0 (and §7.3 for SSP): a non-canonical address in 64-bit mode → #GP(0). */
	if (a->in64 &&
	    (!cpu_canonical_access(cpu, first) || !cpu_canonical_access(cpu, first + a->len - 1)))
		return raise_exception(event, VX_VEC_GP, VX_CAUSE_NONCANONICAL, "arch.md §7.3",
				       "%s access to 0x%llx is not canonical",
				       a->shadow ? "shadow-stack" : "data",
				       (unsigned long long)first);
	/* Page by page; the window never wraps, so a wrapping access meets an absent byte. */
	while (remaining) {
		uint64_t room = VX_PAGE_SIZE - (first & (VX_PAGE_SIZE - 1));
		uint64_t n = room < remaining ? room : remaining;

		if (check_chunk(cpu, mem, a, first, first + n - 1, event))
			return VX_FAULTED;
		first += n;
		remaining -= n;
	}
	return 0;
}

int mem_load(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, const struct mem_access *a,
	     uint64_t *value, struct vx_event *event)
{
	uint8_t bytes[8] = {0};

	if (mem_check(cpu, mem, a, event))
		return VX_FAULTED;
	memcpy(bytes, area_bytes(&mem->window, a->addr), a->len);
	*value = load_le64(bytes);
	return 0;
}

int txn_store(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, struct txn *t,
	      const struct mem_access *a, uint64_t value, struct vx_event *event)
{
	if (mem_check(cpu, mem, a, event))
		return VX_FAULTED;
	/* Sized for the longest transfer; more would be a bug in the caller. */
	if (t->n >= TXN_MAX)
		return cet_misuse(event, "internal: more than %u writes in one transfer", TXN_MAX);
	t->w[t->n].addr = a->addr;
	t->w[t->n].value = value;
	t->w[t->n].len = a->len;
	t->n++;
	return 0;
}

void txn_commit(struct vx_cpu_memory *mem, const struct txn *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		uint8_t bytes[8];

		store_le64(bytes, t->w[i].value);
		memcpy(area_bytes(&mem->window, t->w[i].addr), bytes, t->w[i].len);
	}
}

static int data_args(const struct vx_cpu *cpu, const struct vx_cpu_memory *mem, const void *buf,
		     size_t len, const char *who, struct vx_event *event)
{
	if (!cpu || !buf)
		return cet_misuse(event, "%s: NULL processor or buffer", who);
	if (len == 0 || len > VX_PAGE_SIZE)
		return cet_misuse(event, "%s: length %zu is not 1-4096", who, len);
	return mem_args_check(mem, who, event);
}

int vx_cpu_mem_read(struct vx_cpu *cpu, const struct vx_cpu_memory *mem, uint64_t addr, void *buf,
		    size_t len, struct vx_event *event)
{
	struct mem_access a;
	int rc;

	event_clear(event);
	rc = data_args(cpu, mem, buf, len, "vx_cpu_mem_read", event);
	if (rc)
		return rc;
	a = data_access(addr, (unsigned)len, false, cpu_effective_cpl(cpu) == 3,
			cpu_in_64bit_mode(cpu));
	if (mem_check(cpu, mem, &a, event))
		return VX_FAULTED;
	memcpy(buf, area_bytes(&mem->window, addr), len);
	return 0;
}

int vx_cpu_mem_write(struct vx_cpu *cpu, struct vx_cpu_memory *mem, uint64_t addr, const void *buf,
		     size_t len, struct vx_event *event)
{
	struct mem_access a;
	int rc;

	event_clear(event);
	rc = data_args(cpu, mem, buf, len, "vx_cpu_mem_write", event);
	if (rc)
		return rc;
	a = data_access(addr, (unsigned)len, true, cpu_effective_cpl(cpu) == 3,
			cpu_in_64bit_mode(cpu));
	if (mem_check(cpu, mem, &a, event))
		return VX_FAULTED;
	memcpy(area_bytes(&mem->window, addr), buf, len);
	return 0;
}
