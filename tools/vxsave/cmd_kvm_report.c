/* SPDX-License-Identifier: MIT */
/*
 * `vxsave kvm caps|cpuid|msrs` (cmd_kvm.h): what the modelled module reports, as text or JSON
 * with the same numbers.
 *   caps   kvm_cpu_caps feature by feature with the rule that decided each (kvm.md §1.3),
 *          supported_xcr0/xss, the flavour's quirks; with --guest-cpuid a vCPU's capability
 *          table after KVM_SET_CPUID2 (§1.4).
 *   cpuid  KVM_GET_SUPPORTED_CPUID / KVM_GET_EMULATED_CPUID as `cpuid -r` prints, with leaf
 *          0xD decoded in comment lines (§2.1-§2.3), so the output is a valid --cpuid-dump.
 *   msrs   the MSR index lists (§3.3) and, for each XSAVE/CET MSR of §3.2, what a vCPU with the
 *          supported CPUID sees: a host read, a guest RDMSR and WRMSR (and whether each exited
 *          to KVM, observed on the model), where the value lives in this CET_S design (§6.3,
 *          §6.4) and the §3.2 rule.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vxsave/fpu.h>

#include "cli.h"
#include "cmd_kvm.h"
#include "json_output.h"
#include "kvm_script_internal.h"

#define FEATURES_MAX 256u
#define CPUID_MAX    1024u
#define FILE_MAX     (1u << 20)

static const char *const kind_names[VX_KVM_CAP_KIND_COUNT] = {
    "F", "EMULATED_F", "PASSTHROUGH_F", "RUNTIME_F", "X86_64_F", "undeclared",
};

/* Notes that only repeat the kind: no "rule:" line for them in the text. */
static const char *const plain_notes[] = {
    "F",
    "X86_64_F",
    "F (kvm.md §1.3)",
    "X86_64_F (kvm.md §1.3)",
    "EMULATED_F: always (kvm.md §1.3)",
    "PASSTHROUGH_F: raw CPUID only (kvm.md §1.3)",
};

static void describe_module(const struct kvm_host *h, char *buf, size_t len)
{
	const struct vx_kvm_options *o = vx_kvm_options(h->kvm);

	snprintf(buf, len, "%s, CET_S design %s, TDP %s%s", cli_kvm_flavour_label(o->flavour),
		 vx_kvm_cet_design_name(o->design), o->tdp ? "on" : "off",
		 o->allow_smaller_maxphyaddr ? ", allow_smaller_maxphyaddr" : "");
}

static const char *profile_name(const struct kvm_host *h)
{
	return h->profile.name[0] ? h->profile.name : "(unnamed)";
}

static void feature_bit(const struct vx_kvm_feature_info *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s[%u]", vx_kvm_word_info(f->word)->name, f->bit);
}

/* vx_kvm_cap_reason() without its "supported: " / "not supported: " head. */
static const char *reason(const struct vx_kvm *kvm, unsigned i, char *buf, size_t len)
{
	const char *colon;

	vx_kvm_cap_reason(kvm, i, buf, len);
	colon = strstr(buf, ": ");
	return colon ? colon + 2 : buf;
}

static bool plain_note(const char *note)
{
	for (size_t i = 0; i < sizeof(plain_notes) / sizeof(plain_notes[0]); i++)
		if (strcmp(note, plain_notes[i]) == 0)
			return true;
	return false;
}

/* "  supported_xcr0  0x602e7   x87|SSE|..." */
static void mask_line(const char *label, uint64_t mask)
{
	char names[256], hex[24];

	cli_format_hex(hex, sizeof(hex), mask);
	printf("  %-20s %-9s %s\n", label, hex, cli_mask_names(mask, names, sizeof(names)));
}

static void print_quirks(uint64_t quirks)
{
	if (!quirks)
		printf("  %-20s none (upstream behaviour)\n", "quirks");
	for (unsigned q = 0; q < VX_KVM_QUIRK_COUNT; q++) {
		const struct vx_kvm_quirk_info *info = vx_kvm_quirk_info((enum vx_kvm_quirk)q);
		char first[64];

		if (!(quirks & VX_BIT(q)))
			continue;
		snprintf(first, sizeof(first), "  quirk %s: ", info->name);
		cli_print_wrapped(stdout, first, "      ", info->observed, ' ');
	}
}

/* ----------------------------------------------------------------------------------------- */
/* caps                                                                                         */

static void print_features(const struct vx_kvm *kvm)
{
	char bit[32], why[256];

	printf("\n  %-18s %-16s %-13s %-9s %s\n", "feature", "CPUID", "kind", "supported", "why");
	for (unsigned i = 0; i < vx_kvm_feature_count(); i++) {
		const struct vx_kvm_feature_info *f = vx_kvm_feature_at(i);

		feature_bit(f, bit, sizeof(bit));
		printf("  %-18s %-16s %-13s %-9s %s\n", f->name, bit, kind_names[f->kind],
		       cli_yes_no(vx_kvm_cap_has(kvm, i)), reason(kvm, i, why, sizeof(why)));
		if (!plain_note(f->note))
			printf("  %-18s rule: %s\n", "", f->note);
	}
}

/* The CPUID of --guest-cpuid: a `cpuid -r` file (the first CPU block), supported or none. */
static int read_file(const char *path, char **text)
{
	FILE *file = fopen(path, "r");
	size_t used;

	if (!file) {
		cli_error("kvm caps: --guest-cpuid %s: %s", path, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	*text = calloc(1, FILE_MAX + 1);
	used = *text ? fread(*text, 1, FILE_MAX + 1, file) : 0;
	fclose(file);
	if (!*text || used > FILE_MAX) {
		cli_error("kvm caps: --guest-cpuid %s: %s", path,
			  *text ? "larger than 1 MiB" : "out of memory");
		free(*text);
		*text = NULL;
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static bool blank_or_comment(const char *line)
{
	while (*line == ' ' || *line == '\t' || *line == '\r')
		line++;
	return *line == '\0' || *line == '#';
}

/*
 * One hex field after @label ("eax=", or "" for the leaf and sub-leaf): a 32-bit value; a
 * larger one is refused, not cut (sscanf's %x gives no error for it; issue 11 lint).  Returns
 * the text after it, or NULL.
 */
static const char *hex_u32(const char *s, const char *label, unsigned *out)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, label, strlen(label)) != 0)
		return NULL;
	s += strlen(label);
	if (!isxdigit((unsigned char)*s))
		return NULL;
	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno || v > UINT32_MAX)
		return NULL;
	*out = (unsigned)v;
	return end;
}

static int parse_line(const char *path, unsigned number, const char *line,
		      struct vx_kvm_cpuid_entry *e)
{
	unsigned fn = 0, sub = 0, a = 0, b = 0, c = 0, d = 0;
	const char *s = hex_u32(line, "", &fn);

	s = s ? hex_u32(s, "", &sub) : NULL;
	s = s && *s == ':' ? hex_u32(s + 1, "eax=", &a) : NULL;
	s = s ? hex_u32(s, "ebx=", &b) : NULL;
	s = s ? hex_u32(s, "ecx=", &c) : NULL;
	if (!s || !hex_u32(s, "edx=", &d)) {
		cli_error("kvm caps: --guest-cpuid %s:%u: not a 'cpuid -r' line "
			  "(\"   0x0000000d 0x01: eax=0x... ebx=0x... ecx=0x... edx=0x...\")",
			  path, number);
		return CLI_EXIT_FAILURE;
	}
	*e = (struct vx_kvm_cpuid_entry){fn, sub, 0, a, b, c, d};
	if (ks_cpuid_indexed_leaf(fn) || sub)
		e->flags = VX_KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return CLI_EXIT_OK;
}

static int parse_cpuid_file(const char *path, struct vx_kvm_cpuid_entry *e, uint32_t *n)
{
	char *text = NULL, *line, *save = NULL;
	unsigned number = 0, blocks = 0;
	int rc = read_file(path, &text);

	*n = 0;
	for (line = rc ? NULL : strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		number++;
		if (blank_or_comment(line))
			continue;
		/* "CPU N:" starts a block; only the first one is the vCPU's. */
		if (strncmp(line, "CPU ", 4) == 0 && ++blocks > 1)
			break;
		if (strncmp(line, "CPU ", 4) == 0)
			continue;
		if (*n == CPUID_MAX) {
			cli_error("kvm caps: --guest-cpuid %s: more than %u entries", path,
				  CPUID_MAX);
			rc = CLI_EXIT_FAILURE;
		}
		if (!rc)
			rc = parse_line(path, number, line, &e[(*n)++]);
		if (rc)
			break;
	}
	free(text);
	return rc;
}

struct vcpu_table {
	const char *source;
	int set_rc;
	struct vx_error err;
	uint32_t nent;
	struct vx_kvm_vcpu *vcpu;
	struct vx_kvm_cap_row rows[FEATURES_MAX];
	unsigned count;
};

/* A VM and vCPU 0 by the VMM, KVM_SET_CPUID2 of the requested entries, the table. */
static int vcpu_up(const struct kvm_request *request, struct kvm_host *h, struct vcpu_table *t)
{
	static struct vx_kvm_cpuid_entry entries[CPUID_MAX];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vm *vm = NULL;
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	int rc = CLI_EXIT_OK;

	t->source = request->guest_cpuid;
	if (strcmp(t->source, "none") == 0)
		n = 0;
	else if (strcmp(t->source, "supported") == 0)
		rc = vx_kvm_get_supported_cpuid(h->kvm, h->vmm, entries, &n, &err) < 0
			 ? CLI_EXIT_FAILURE
			 : CLI_EXIT_OK;
	else
		rc = parse_cpuid_file(t->source, entries, &n);
	if (rc == CLI_EXIT_OK && (vx_kvm_vm_create(h->kvm, h->vmm, &vm, &err) < 0 ||
				  vx_kvm_vcpu_create(vm, h->vmm, 0, &t->vcpu, &err) < 0))
		rc = CLI_EXIT_FAILURE;
	if (rc) {
		if (err.code)
			cli_vx_error("kvm caps", &err);
		return rc;
	}
	t->nent = n;
	vx_error_clear(&t->err);
	t->set_rc = vx_kvm_vcpu_set_cpuid2(t->vcpu, h->vmm, entries, n, &t->err);
	t->count = vx_kvm_vcpu_cap_table(t->vcpu, t->rows, FEATURES_MAX);
	return CLI_EXIT_OK;
}

static void print_vcpu_table(const struct vcpu_table *t)
{
	char result[32];

	fs_format_result(result, sizeof(result), t->set_rc);
	printf("\nvCPU 0 after KVM_SET_CPUID2 of %s (%u entries) = %s%s%s%s\n", t->source, t->nent,
	       result, t->set_rc ? " (" : "", t->set_rc ? t->err.reason : "", t->set_rc ? ")" : "");
	mask_line("guest_supported_xcr0", vx_kvm_vcpu_guest_supported_xcr0(t->vcpu));
	mask_line("guest_supported_xss", vx_kvm_vcpu_guest_supported_xss(t->vcpu));
	printf("\n  %-18s %-11s %-12s %-9s %s\n", "feature", "guest CPUID", "KVM supports",
	       "effective", "why");
	for (unsigned i = 0; i < t->count && i < FEATURES_MAX; i++)
		printf("  %-18s %-12s %-13s %-10s %s\n",
		       vx_kvm_feature_at(t->rows[i].feature)->name,
		       cli_yes_no(t->rows[i].guest_cpuid), cli_yes_no(t->rows[i].kvm_supported),
		       cli_yes_no(t->rows[i].effective), t->rows[i].why);
}

static json_t *json_quirks(uint64_t quirks)
{
	json_t *list = json_array();

	for (unsigned q = 0; q < VX_KVM_QUIRK_COUNT; q++) {
		const struct vx_kvm_quirk_info *info = vx_kvm_quirk_info((enum vx_kvm_quirk)q);
		json_t *entry;

		if (!(quirks & VX_BIT(q)))
			continue;
		entry = json_object();
		cli_json_set(entry, "name", json_string(info->name));
		cli_json_set(entry, "upstream", json_string(info->upstream));
		cli_json_set(entry, "observed", json_string(info->observed));
		cli_json_set(entry, "source", json_string(info->source));
		json_array_append_new(list, entry);
	}
	return list;
}

static json_t *json_feature(const struct vx_kvm *kvm, unsigned i)
{
	const struct vx_kvm_feature_info *f = vx_kvm_feature_at(i);
	const struct vx_kvm_word_info *w = vx_kvm_word_info(f->word);
	json_t *o = json_object();
	char why[256];

	cli_json_set(o, "name", json_string(f->name));
	cli_json_set(o, "leaf", cli_json_reg32(w->leaf));
	cli_json_set(o, "subleaf", cli_json_reg32(w->subleaf));
	cli_json_set(o, "register", json_string(ks_reg_name(w->reg)));
	cli_json_set(o, "bit", json_integer(f->bit));
	cli_json_set(o, "kind", json_string(kind_names[f->kind]));
	cli_json_set(o, "supported", json_boolean(vx_kvm_cap_has(kvm, i)));
	cli_json_set(o, "why", cli_json_text(reason(kvm, i, why, sizeof(why))));
	cli_json_set(o, "rule", cli_json_text(f->note));
	return o;
}

static json_t *json_vcpu(const struct vcpu_table *t)
{
	json_t *o = json_object(), *rows = json_array();

	cli_json_set(o, "cpuid", cli_json_text(t->source));
	cli_json_set(o, "entries", json_integer(t->nent));
	cli_json_set(o, "set_cpuid2", json_integer(t->set_rc));
	cli_json_set(o, "error", t->set_rc ? cli_json_text(t->err.reason) : NULL);
	cli_json_set(o, "guest_supported_xcr0",
		     cli_json_mask(vx_kvm_vcpu_guest_supported_xcr0(t->vcpu)));
	cli_json_set(o, "guest_supported_xss",
		     cli_json_mask(vx_kvm_vcpu_guest_supported_xss(t->vcpu)));
	for (unsigned i = 0; i < t->count && i < FEATURES_MAX; i++) {
		json_t *row = json_object();

		cli_json_set(row, "name", json_string(vx_kvm_feature_at(t->rows[i].feature)->name));
		cli_json_set(row, "guest_cpuid", json_boolean(t->rows[i].guest_cpuid));
		cli_json_set(row, "kvm_supported", json_boolean(t->rows[i].kvm_supported));
		cli_json_set(row, "effective", json_boolean(t->rows[i].effective));
		cli_json_set(row, "why", cli_json_text(t->rows[i].why));
		json_array_append_new(rows, row);
	}
	cli_json_set(o, "caps", rows);
	return o;
}

static json_t *json_head(const struct kvm_host *h)
{
	const struct vx_kvm_options *o = vx_kvm_options(h->kvm);
	json_t *root = json_object();

	cli_json_set(root, "schema_version", json_integer(CLI_JSON_SCHEMA_VERSION));
	cli_json_set(root, "profile", cli_json_text(profile_name(h)));
	cli_json_set(root, "flavour", json_string(vx_kvm_flavour_name(o->flavour)));
	cli_json_set(root, "design", json_string(vx_kvm_cet_design_name(o->design)));
	cli_json_set(root, "tdp", json_boolean(o->tdp));
	return root;
}

static json_t *json_caps(const struct kvm_host *h, const struct vcpu_table *t)
{
	json_t *root = json_head(h), *features = json_array();

	cli_json_set(root, "supported_xcr0", cli_json_mask(vx_kvm_supported_xcr0(h->kvm)));
	cli_json_set(root, "supported_xss", cli_json_mask(vx_kvm_supported_xss(h->kvm)));
	cli_json_set(root, "quirks", json_quirks(vx_kvm_options(h->kvm)->quirks));
	for (unsigned i = 0; i < vx_kvm_feature_count(); i++)
		json_array_append_new(features, json_feature(h->kvm, i));
	cli_json_set(root, "features", features);
	cli_json_set(root, "vcpu", t ? json_vcpu(t) : NULL);
	return root;
}

int cli_kvm_caps(const struct kvm_request *request)
{
	static struct vcpu_table table;
	struct kvm_host h;
	char module[160];
	int rc = cli_kvm_host_up(request, &h);

	if (rc)
		return rc;
	memset(&table, 0, sizeof(table));
	if (request->guest_cpuid)
		rc = vcpu_up(request, &h, &table);
	if (!rc && request->json) {
		rc = cli_json_print(json_caps(&h, request->guest_cpuid ? &table : NULL));
	} else if (!rc) {
		describe_module(&h, module, sizeof(module));
		printf("KVM on %s: %s\n", profile_name(&h), module);
		mask_line("supported_xcr0", vx_kvm_supported_xcr0(h.kvm));
		mask_line("supported_xss", vx_kvm_supported_xss(h.kvm));
		print_quirks(vx_kvm_options(h.kvm)->quirks);
		print_features(h.kvm);
		if (request->guest_cpuid)
			print_vcpu_table(&table);
	}
	if (!rc && request->guest_cpuid && table.set_rc < 0)
		rc = CLI_EXIT_FAILURE;
	cli_kvm_host_down(&h);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* cpuid                                                                                        */

static const char *const d1_eax_names[5] = {"xsaveopt", "xsavec", "xgetbv1", "xsaves", "xfd"};

static const struct vx_kvm_cpuid_entry *entry(const struct vx_kvm_cpuid_entry *e, uint32_t n,
					      uint32_t fn, uint32_t sub)
{
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == sub)
			return &e[i];
	return NULL;
}

static void d1_eax_text(uint32_t eax, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 5 && used < len; i++)
		if (eax >> i & 1u)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "|" : "",
						 d1_eax_names[i]);
	if (!used)
		snprintf(buf, len, "(none)");
}

static void print_leaf_d(const struct vx_kvm_cpuid_entry *e, uint32_t n)
{
	const struct vx_kvm_cpuid_entry *d0 = entry(e, n, 0xD, 0), *d1 = entry(e, n, 0xD, 1);
	char names[256], bits[64];

	if (!d0)
		return;
	printf("# leaf 0xD decoded (kvm.md §2.2: from supported_xcr0/xss and the guest "
	       "permission)\n");
	printf("#   0xd.0   XCR0 bits 0x%llx%s; EBX %u, ECX %u: standard size of those\n",
	       (unsigned long long)(d0->eax | (uint64_t)d0->edx << 32),
	       ks_mask_paren(d0->eax | (uint64_t)d0->edx << 32, names, sizeof(names)), d0->ebx,
	       d0->ecx);
	if (d1) {
		d1_eax_text(d1->eax, bits, sizeof(bits));
		printf("#   0xd.1   EAX 0x%x (%s); EBX %u: compacted size of XCR0|XSS; XSS bits "
		       "0x%llx%s\n",
		       d1->eax, bits, d1->ebx,
		       (unsigned long long)(d1->ecx | (uint64_t)d1->edx << 32),
		       ks_mask_paren(d1->ecx | (uint64_t)d1->edx << 32, names, sizeof(names)));
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct vx_component_info *info = vx_component_info(e[i].index);

		if (e[i].function != 0xD || e[i].index < 2 || !info)
			continue;
		char where[32] = "(supervisor)";

		if (!(e[i].ecx & 1u))
			snprintf(where, sizeof(where), "at offset %u", e[i].ebx);
		printf("#   0xd.%-3u %-10s %5u bytes %s%s%s\n", e[i].index, info->name, e[i].eax,
		       where, e[i].ecx & 2u ? ", 64-byte aligned" : "",
		       e[i].ecx & 4u ? ", XFD" : "");
	}
}

static json_t *json_entries(const struct vx_kvm_cpuid_entry *e, uint32_t n)
{
	json_t *list = json_array();

	for (uint32_t i = 0; i < n; i++) {
		json_t *o = json_object();

		cli_json_set(o, "leaf", cli_json_reg32(e[i].function));
		cli_json_set(o, "subleaf", cli_json_reg32(e[i].index));
		cli_json_set(o, "flags", json_integer(e[i].flags));
		cli_json_set(o, "eax", cli_json_reg32(e[i].eax));
		cli_json_set(o, "ebx", cli_json_reg32(e[i].ebx));
		cli_json_set(o, "ecx", cli_json_reg32(e[i].ecx));
		cli_json_set(o, "edx", cli_json_reg32(e[i].edx));
		json_array_append_new(list, o);
	}
	return list;
}

static json_t *json_leaf_d(const struct vx_kvm_cpuid_entry *e, uint32_t n)
{
	const struct vx_kvm_cpuid_entry *d0 = entry(e, n, 0xD, 0), *d1 = entry(e, n, 0xD, 1);
	json_t *o;

	if (!d0)
		return NULL;
	o = json_object();
	cli_json_set(o, "xcr0", cli_json_mask(d0->eax | (uint64_t)d0->edx << 32));
	cli_json_set(o, "standard_size", json_integer(d0->ebx));
	cli_json_set(o, "max_size", json_integer(d0->ecx));
	cli_json_set(o, "d1_eax", d1 ? cli_json_hex(d1->eax) : NULL);
	cli_json_set(o, "compacted_size", d1 ? json_integer(d1->ebx) : NULL);
	cli_json_set(o, "xss", d1 ? cli_json_mask(d1->ecx | (uint64_t)d1->edx << 32) : NULL);
	return o;
}

int cli_kvm_cpuid(const struct kvm_request *request)
{
	static struct vx_kvm_cpuid_entry e[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	const char *call = request->emulated ? "KVM_GET_EMULATED_CPUID" : "KVM_GET_SUPPORTED_CPUID";
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;
	uint64_t perm = 0;
	struct kvm_host h;
	char module[160];
	json_t *root;
	int rc = cli_kvm_host_up(request, &h);

	if (rc)
		return rc;
	rc = request->emulated ? vx_kvm_get_emulated_cpuid(h.kvm, e, &n, &err)
			       : vx_kvm_get_supported_cpuid(h.kvm, h.vmm, e, &n, &err);
	(void)vx_fpu_arch_prctl(h.vmm, VX_ARCH_GET_XCOMP_GUEST_PERM, 0, &perm, NULL);
	if (rc < 0) {
		cli_vx_error(call, &err);
		cli_kvm_host_down(&h);
		return CLI_EXIT_FAILURE;
	}
	if (request->json) {
		root = json_head(&h);
		cli_json_set(root, "ioctl", json_string(call));
		cli_json_set(root, "guest_perm", cli_json_mask(perm));
		cli_json_set(root, "entries", json_entries(e, n));
		cli_json_set(root, "leaf_0xd", json_leaf_d(e, n));
		rc = cli_json_print(root);
	} else {
		describe_module(&h, module, sizeof(module));
		printf("# name: kvm-%s-%s\n", request->emulated ? "emulated" : "supported",
		       profile_name(&h));
		printf("# %s on %s: %s; %u entries\n", call, profile_name(&h), module, n);
		printf("# the VMM's guest permission (ARCH_GET_XCOMP_GUEST_PERM): 0x%llx\n",
		       (unsigned long long)perm);
		printf("CPU 0:\n");
		for (uint32_t i = 0; i < n; i++)
			printf("   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
			       e[i].function, e[i].index, e[i].eax, e[i].ebx, e[i].ecx, e[i].edx);
		print_leaf_d(e, n);
	}
	cli_kvm_host_down(&h);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* msrs                                                                                         */

/* Where a value lives (kvm.md §6.3; issue 8 for the kvm-* designs) and the §3.2 rule. */
struct msr_fact {
	uint32_t index;
	const char *lives_vmx;
	const char *lives_svm;
	const char *rule;
	bool pl012;
};

#define GUEST_FPSTATE_CET_U "guest fpstate, CET_U component (XSAVES, with the guest FPU loaded)"

static const struct msr_fact msr_facts[] = {
    {VX_MSR_IA32_XSS, "vcpu->arch.ia32_xss (loaded at VM entry when CR4.OSXSAVE and it differs)",
     NULL,
     "guest write without XSAVES in guest CPUID: UNSUP; bits outside guest_supported_xss: "
     "#GP, host included; always intercepted (kvm.md §3.2)",
     false},
    {VX_MSR_IA32_XFD, "guest_fpu.fpstate->xfd (fpu_update_guest_xfd)", NULL,
     "guest needs the XFD cap; bits outside guest_supported_xcr0 & XTILE_DATA: #GP; VMX "
     "passes it through after the first non-zero write (kvm.md §3.2)",
     false},
    {VX_MSR_IA32_XFD_ERR, "guest_fpu.xfd_err", NULL,
     "as XFD; VMX passes reads through with the XFD cap, writes always exit (kvm.md §3.2)", false},
    {VX_MSR_IA32_U_CET, GUEST_FPSTATE_CET_U, NULL,
     "exists with cap SHSTK or IBT; kvm_is_valid_u_s_cet; VMX passes it through with SHSTK "
     "or IBT, SVM with SHSTK (kvm.md §3.1, §3.2)",
     false},
    {VX_MSR_IA32_S_CET, "VMCS GUEST_S_CET", "VMCB save.s_cet",
     "as U_CET; not XSAVE-managed (kvm.md §3.2)", false},
    {VX_MSR_IA32_PL0_SSP, NULL, NULL,
     "exists with cap SHSTK; canonical and 4-byte aligned; passed through with SHSTK "
     "(kvm.md §3.2)",
     true},
    {VX_MSR_IA32_PL1_SSP, NULL, NULL, "as PL0_SSP (kvm.md §3.2)", true},
    {VX_MSR_IA32_PL2_SSP, NULL, NULL, "as PL0_SSP (kvm.md §3.2)", true},
    {VX_MSR_IA32_PL3_SSP, GUEST_FPSTATE_CET_U, NULL, "as PL0_SSP, stored in CET_U (kvm.md §3.2)",
     false},
    {VX_MSR_IA32_INT_SSP_TAB, "VMCS GUEST_INTR_SSP_TABLE", "VMCB save.isst_addr",
     "reads need cap SHSTK, writes SHSTK and LM; canonical, no alignment rule; always "
     "intercepted (kvm.md §3.2)",
     false},
    {VX_MSR_KVM_INTERNAL_GUEST_SSP, "VMCS GUEST_SSP", "VMCB save.ssp",
     "synthetic index 0x4b564dff: host-initiated only (ONE_REG GUEST_SSP), then as PLx_SSP "
     "(kvm.md §3.2, §3.4)",
     false},
};

static const char *pl012_home(enum vx_kvm_cet_design design)
{
	switch (design) {
	case VX_KVM_CET_UNSUPPORTED:
		return "nowhere: this design offers no SHSTK to guests";
	case VX_KVM_CET_ALL_TASKS:
	case VX_KVM_CET_GUEST_ONLY:
		return "guest fpstate, CET_S component (XSAVES, with the guest FPU loaded)";
	case VX_KVM_CET_KVM_EAGER:
		return "KVM's copy in the vCPU; in the CPU's MSRs from KVM_RUN entry/sched-in to "
		       "exit/sched-out";
	case VX_KVM_CET_KVM_LAZY:
		return "KVM's copy; writes intercepted until the first non-zero one, then as "
		       "kvm-eager";
	default:
		return "KVM's copy; left in the CPU's MSRs until its user-return notifier";
	}
}

static const char *lives_in(const struct msr_fact *f, const struct vx_kvm_options *o)
{
	if (f->pl012)
		return pl012_home(o->design);
	return o->flavour == VX_KVM_SVM && f->lives_svm ? f->lives_svm : f->lives_vmx;
}

/* One guest instruction on a fresh KVM_RUN: its event and whether it exited to KVM. */
struct guest_probe {
	bool ran;
	struct vx_event event;
	bool exited;
	uint64_t value;
};

static void guest_access(struct kvm_host *h, struct vx_kvm_vcpu *vcpu, uint32_t index, bool write,
			 uint64_t value, struct guest_probe *out)
{
	struct vx_kvm_guest_op op = {
	    .op = write ? VX_KVM_GOP_WRMSR : VX_KVM_GOP_RDMSR, .index = index, .value = value};
	struct vx_kvm_run run = {.ops = &op, .count = 1};
	struct vx_error err = VX_ERROR_INIT;

	memset(out, 0, sizeof(*out));
	out->ran = vx_kvm_vcpu_run(vcpu, h->vmm, 0, &run, 0, &err) >= 0 && run.pc == 1;
	out->event = run.event;
	out->exited = run.vm_exits != 0;
	out->value = run.value;
}

struct msr_probe {
	const struct msr_fact *fact;
	bool listed;
	int host_rc;
	uint64_t host_value;
	char host_why[VX_ERROR_REASON_MAX];
	struct guest_probe rd, wr;
};

static void probe_msr(struct kvm_host *h, struct vx_kvm_vcpu *vcpu, const struct msr_fact *f,
		      const uint32_t *list, uint32_t n, struct msr_probe *p)
{
	struct vx_error err = VX_ERROR_INIT;

	memset(p, 0, sizeof(*p));
	p->fact = f;
	for (uint32_t i = 0; i < n; i++)
		p->listed |= list[i] == f->index;
	p->host_rc = vx_kvm_vcpu_get_msr(vcpu, true, f->index, &p->host_value, &err);
	snprintf(p->host_why, sizeof(p->host_why), "%s", err.reason);
	if (f->index == VX_MSR_KVM_INTERNAL_GUEST_SSP)
		return;
	guest_access(h, vcpu, f->index, false, 0, &p->rd);
	/* Write back what the guest read (0 at RESET): existence and interception, no change. */
	guest_access(h, vcpu, f->index, true, p->rd.value, &p->wr);
}

static const char *guest_text(const struct msr_probe *p, const struct guest_probe *g, char *buf,
			      size_t len)
{
	char event[32];

	if (p->fact->index == VX_MSR_KVM_INTERNAL_GUEST_SSP)
		return "(host only)";
	if (!g->ran)
		return "(did not run)";
	snprintf(buf, len, "%s (%s)",
		 g->event.kind == VX_EVENT_NONE ? "ok"
						: vx_event_name(&g->event, event, sizeof(event)),
		 g->exited ? "VM exit" : "no exit");
	return buf;
}

static void print_probe(const struct msr_probe *p, const struct vx_kvm_options *o)
{
	char name[40], rd[48], wr[48], host[40];
	bool exists = p->host_rc == 0 || p->rd.event.kind == VX_EVENT_NONE;

	if (p->host_rc == 0)
		snprintf(host, sizeof(host), "0x%llx", (unsigned long long)p->host_value);
	else
		snprintf(host, sizeof(host), "fails");
	printf("  %-30s %-6s %-10s %-18s %s\n", ks_msr_name(p->fact->index, name, sizeof(name)),
	       cli_yes_no(p->listed), host, guest_text(p, &p->rd, rd, sizeof(rd)),
	       guest_text(p, &p->wr, wr, sizeof(wr)));
	if (p->host_rc != 0)
		printf("      host: %s\n", p->host_why);
	printf("      lives in%s: %s\n", exists ? "" : " (if the vCPU had it)",
	       lives_in(p->fact, o));
	printf("      rule: %s\n", p->fact->rule);
}

static json_t *json_guest(const struct msr_probe *p, const struct guest_probe *g)
{
	json_t *o = json_object();
	char event[32];

	if (p->fact->index == VX_MSR_KVM_INTERNAL_GUEST_SSP || !g->ran) {
		json_decref(o);
		return NULL;
	}
	cli_json_set(o, "event",
		     g->event.kind == VX_EVENT_NONE
			 ? NULL
			 : json_string(vx_event_name(&g->event, event, sizeof(event))));
	cli_json_set(o, "vm_exit", json_boolean(g->exited));
	return o;
}

static json_t *json_probe(const struct msr_probe *p, const struct vx_kvm_options *o)
{
	json_t *m = json_object();
	char name[40];

	cli_json_set(m, "name", json_string(ks_msr_name(p->fact->index, name, sizeof(name))));
	cli_json_set(m, "index", cli_json_hex(p->fact->index));
	cli_json_set(m, "listed", json_boolean(p->listed));
	cli_json_set(m, "host_read", json_boolean(p->host_rc == 0));
	cli_json_set(m, "host_value", p->host_rc == 0 ? cli_json_hex(p->host_value) : NULL);
	cli_json_set(m, "host_error", p->host_rc ? cli_json_text(p->host_why) : NULL);
	cli_json_set(m, "guest_rdmsr", json_guest(p, &p->rd));
	cli_json_set(m, "guest_wrmsr", json_guest(p, &p->wr));
	cli_json_set(m, "lives_in", json_string(lives_in(p->fact, o)));
	cli_json_set(m, "rule", json_string(p->fact->rule));
	return m;
}

static json_t *json_list(const uint32_t *list, uint32_t n)
{
	json_t *a = json_array();
	char name[40];

	for (uint32_t i = 0; i < n; i++) {
		json_t *o = json_object();

		cli_json_set(o, "index", cli_json_hex(list[i]));
		cli_json_set(o, "name", json_string(ks_msr_name(list[i], name, sizeof(name))));
		json_array_append_new(a, o);
	}
	return a;
}

static void print_list(const char *what, const uint32_t *list, uint32_t n)
{
	char name[40];

	printf("%s: %u MSR%s\n", what, n, n == 1 ? "" : "s");
	for (uint32_t i = 0; i < n; i++)
		printf("  %#-8x %s\n", list[i], ks_msr_name(list[i], name, sizeof(name)));
}

struct msr_report {
	uint32_t list[256], features[16];
	uint32_t n, nfeatures;
	struct msr_probe probes[sizeof(msr_facts) / sizeof(msr_facts[0])];
};

static int probe_all(struct kvm_host *h, struct msr_report *m)
{
	static struct vx_kvm_cpuid_entry e[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_error err = VX_ERROR_INIT;
	struct vx_kvm_vcpu *vcpu = NULL;
	struct vx_kvm_vm *vm = NULL;
	uint32_t n = VX_KVM_MAX_CPUID_ENTRIES;

	m->n = 256;
	m->nfeatures = 16;
	if (vx_kvm_get_msr_index_list(h->kvm, m->list, &m->n, &err) < 0 ||
	    vx_kvm_get_msr_feature_index_list(h->kvm, m->features, &m->nfeatures, &err) < 0 ||
	    vx_kvm_get_supported_cpuid(h->kvm, h->vmm, e, &n, &err) < 0 ||
	    vx_kvm_vm_create(h->kvm, h->vmm, &vm, &err) < 0 ||
	    vx_kvm_vcpu_create(vm, h->vmm, 0, &vcpu, &err) < 0 ||
	    vx_kvm_vcpu_set_cpuid2(vcpu, h->vmm, e, n, &err) < 0) {
		cli_vx_error("kvm msrs", &err);
		return CLI_EXIT_FAILURE;
	}
	for (size_t i = 0; i < sizeof(msr_facts) / sizeof(msr_facts[0]); i++)
		probe_msr(h, vcpu, &msr_facts[i], m->list, m->n, &m->probes[i]);
	return CLI_EXIT_OK;
}

static void print_msrs(const struct kvm_host *h, const struct msr_report *m)
{
	const struct vx_kvm_options *o = vx_kvm_options(h->kvm);
	char module[160];

	describe_module(h, module, sizeof(module));
	printf("KVM MSRs on %s: %s\n", profile_name(h), module);
	print_list("KVM_GET_MSR_INDEX_LIST (the XSAVE/CET MSRs the model keeps)", m->list, m->n);
	print_list("KVM_GET_MSR_FEATURE_INDEX_LIST", m->features, m->nfeatures);
	printf("\nvCPU 0 with the supported CPUID, at RESET; guest accesses at CPL 0 write back "
	       "what the guest read:\n");
	printf("  %-30s %-6s %-10s %-18s %s\n", "MSR", "listed", "host get", "guest RDMSR",
	       "guest WRMSR");
	for (size_t i = 0; i < sizeof(msr_facts) / sizeof(msr_facts[0]); i++)
		print_probe(&m->probes[i], o);
}

int cli_kvm_msrs(const struct kvm_request *request)
{
	static struct msr_report m;
	struct kvm_host h;
	json_t *root, *probes;
	int rc = cli_kvm_host_up(request, &h);

	if (rc)
		return rc;
	rc = probe_all(&h, &m);
	if (!rc && request->json) {
		root = json_head(&h);
		probes = json_array();
		cli_json_set(root, "msr_index_list", json_list(m.list, m.n));
		cli_json_set(root, "msr_feature_index_list", json_list(m.features, m.nfeatures));
		for (size_t i = 0; i < sizeof(msr_facts) / sizeof(msr_facts[0]); i++)
			json_array_append_new(probes,
					      json_probe(&m.probes[i], vx_kvm_options(h.kvm)));
		cli_json_set(root, "msrs", probes);
		rc = cli_json_print(root);
	} else if (!rc) {
		print_msrs(&h, &m);
	}
	cli_kvm_host_down(&h);
	return rc;
}
