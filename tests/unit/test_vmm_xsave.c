/* SPDX-License-Identifier: MIT */
/*
 * vmm layer: vCPU XSAVE blobs (issue 10, vmm.h) - recognising and parsing, decoding into
 * registers, conversion and its refusals, validation on model hosts.
 *
 * Expected values are computed here, by hand from arch.md and kvm.md or from the profiles' raw
 * CPUID leaf 0xD (vmm_test_util.h), never read back from the code under test:
 *   sapphire-rapids standard offsets (arch.md §2.1): YMM 576, opmask 1088, ZMM_Hi256 1152,
 *   Hi16_ZMM 1664, PKRU 2688, TILECFG 2752, TILEDATA 2816 (8192 B): 11008 bytes in all.
 *   zen4 (§2.6): opmask 832, ZMM_Hi256 896, Hi16_ZMM 1408, PKRU 2432: 2440 bytes.
 *   Compacted (§2.4 table): 0x207 → YMM 576, PKRU 832; 0x60207 → TILECFG 896, TILEDATA 960.
 * Round trips std → compacted → std and host A → B → A run on every built-in profile (pair)
 * with random contents (fixed seed, printed); the compacted and cross-host placements are
 * checked against a walk of the raw leaves written here.
 */
#include "vmm_test_util.h"

#define SPR	   "sapphire-rapids"
#define ZEN4	   "zen4"
#define AMX_SIZE   11008u
#define BUF	   16384u
#define SEED	   UINT64_C(0x766d6d2d78736176)
#define ROUNDS	   6
#define FUZZ_CASES 3000u

static _Alignas(64) uint8_t blob_buf[BUF], out_buf[BUF], back_buf[BUF];

static uint64_t seed_state;

static int setup_seed(void **state)
{
	(void)state;
	seed_state = SEED;
	printf("seed 0x%016llx\n", (unsigned long long)SEED);
	return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* Parsing                                                                                      */

static int parse_err(const uint8_t *buf, size_t len, enum vx_vmm_blob_kind kind,
		     struct vx_error *err)
{
	struct vx_vmm_blob b;

	vx_error_clear(err);
	return vx_vmm_blob_parse(buf, len, kind, &b, err);
}

static void test_parse_kinds(void **state)
{
	struct vx_vmm_blob b;
	uint8_t *frame = blob_buf;

	(void)state;
	memset(blob_buf, 0, sizeof(blob_buf));
	vt_put(blob_buf, 2, 0x037F);
	b = vt_parse(blob_buf, 4096, VX_VMM_BLOB_AUTO);
	assert_int_equal(b.kind, VX_VMM_BLOB_KVM);
	assert_true(b.recognized);
	assert_int_equal(b.format, VX_AREA_STANDARD);
	assert_int_equal(vt_parse(blob_buf, AMX_SIZE, VX_VMM_BLOB_AUTO).kind, VX_VMM_BLOB_KVM2);
	assert_int_equal(vt_parse(blob_buf, 2696, VX_VMM_BLOB_AUTO).kind, VX_VMM_BLOB_STANDARD);
	assert_int_equal(vt_parse(blob_buf, 4097, VX_VMM_BLOB_AUTO).kind, VX_VMM_BLOB_STANDARD);
	vt_put(blob_buf + 520, 8, UINT64_C(0x8000000000000207));
	b = vt_parse(blob_buf, 840, VX_VMM_BLOB_AUTO);
	assert_int_equal(b.kind, VX_VMM_BLOB_COMPACTED);
	assert_int_equal(b.format, VX_AREA_COMPACTED);
	assert_true(b.xcomp_bv == UINT64_C(0x8000000000000207));
	/* A 64-bit signal frame (linux-fpu.md §8.4): magic1 at 464, MAGIC2 at xstate_size. */
	memset(frame, 0, 3000);
	vt_put(frame, 2, 0x037F);
	vt_put(frame + 464, 4, 0x46505853);
	vt_put(frame + 468, 4, 2440 + 4);
	vt_put(frame + 472, 8, 0x2e7);
	vt_put(frame + 480, 4, 2440);
	vt_put(frame + 2440, 4, 0x46505845);
	b = vt_parse(frame, 3000, VX_VMM_BLOB_AUTO);
	assert_int_equal(b.kind, VX_VMM_BLOB_SIGFRAME);
	assert_int_equal(b.area_len, 2440);
	assert_int_equal(b.sw.xfeatures, 0x2e7);
	assert_string_equal(vx_vmm_blob_kind_name(VX_VMM_BLOB_KVM2), "kvm2");
	assert_int_equal(vx_vmm_blob_kind_by_name("standard"), VX_VMM_BLOB_STANDARD);
	assert_int_equal(vx_vmm_blob_kind_by_name("Compacted"), VX_VMM_BLOB_COMPACTED);
	assert_int_equal(vx_vmm_blob_kind_by_name("xml"), -ENOENT);
}

static void test_parse_errors(void **state)
{
	struct vx_error err;
	uint8_t *big;

	(void)state;
	memset(blob_buf, 0, sizeof(blob_buf));
	vt_put(blob_buf, 2, 0x037F);
	assert_int_equal(parse_err(blob_buf, 100, VX_VMM_BLOB_AUTO, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "truncated"));
	assert_int_equal(err.offset, 100);
	assert_int_equal(parse_err(blob_buf, 0, VX_VMM_BLOB_AUTO, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "empty"));
	big = calloc(1, VX_VMM_BLOB_MAX + 1u);
	assert_non_null(big);
	big[0] = 0x7F;
	assert_int_equal(parse_err(big, VX_VMM_BLOB_MAX + 1u, VX_VMM_BLOB_AUTO, &err), -EFBIG);
	assert_non_null(strstr(err.reason, "oversized"));
	free(big);
	{
		static const char json[] =
		    "{\"vcpu\": {\"xsave\": \"7f0300000000000000000000000000000000000000\"}}\n";

		memcpy(blob_buf, json, sizeof(json) - 1);
	}
	assert_int_equal(parse_err(blob_buf, 4096, VX_VMM_BLOB_AUTO, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "text"));
	memset(blob_buf, 0, 4096);
	assert_int_equal(parse_err(blob_buf, 4096, VX_VMM_BLOB_AUTO, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "NUL"));
	assert_int_equal(parse_err(blob_buf, 4096, VX_VMM_BLOB_KVM, &err), 0); /* forced */
	vt_put(blob_buf, 2, 0x037F);
	assert_int_equal(parse_err(blob_buf, 4100, VX_VMM_BLOB_KVM, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "4096"));
	assert_int_equal(parse_err(blob_buf, 4098, VX_VMM_BLOB_KVM2, &err), -EINVAL);
	assert_int_equal(parse_err(blob_buf, 2000, VX_VMM_BLOB_KVM2, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "truncated"));
	assert_int_equal(parse_err(blob_buf, 2000, VX_VMM_BLOB_COMPACTED, &err), -EINVAL);
	assert_int_equal(err.offset, 520);
	/* Signal frame: MAGIC2 missing at xstate_size (wrong magic, offset 2440). */
	vt_put(blob_buf + 464, 4, 0x46505853);
	vt_put(blob_buf + 468, 4, 2444);
	vt_put(blob_buf + 480, 4, 2440);
	assert_int_equal(parse_err(blob_buf, 3000, VX_VMM_BLOB_AUTO, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "wrong magic"));
	assert_int_equal(err.offset, 2440);
	/* xstate_size beyond the frame. */
	vt_put(blob_buf + 480, 4, 2998);
	assert_int_equal(parse_err(blob_buf, 3000, VX_VMM_BLOB_AUTO, &err), -EINVAL);
	assert_int_equal(err.offset, 480);
	/* A forced sigframe without magic1. */
	vt_put(blob_buf + 464, 4, 0);
	assert_int_equal(parse_err(blob_buf, 3000, VX_VMM_BLOB_SIGFRAME, &err), -EINVAL);
	assert_int_equal(err.offset, 464);
}

/* ----------------------------------------------------------------------------------------- */
/* Decoding                                                                                     */

/* The hand-built sapphire-rapids KVM blob of the file comment. */
static void build_spr_blob(uint8_t *b)
{
	memset(b, 0, 4096);
	vt_put(b, 2, 0x027F);	  /* FCW: all masked, PC = double, RC = nearest */
	vt_put(b + 2, 2, 0x3200); /* FSW: TOP = 6, C1 */
	b[4] = 0xC0;		  /* abridged FTW: R6, R7 in use */
	vt_put(b + 32, 8, UINT64_C(0x8000000000000000)); /* ST0 = R6 = 1.0 */
	vt_put(b + 40, 2, 0x3FFF);
	vt_fill(b + 80, 10, &seed_state); /* ST3 = R1: empty, whatever its bytes */
	vt_put(b + 24, 4, 0x1F84);	  /* MXCSR: ZE */
	vt_put(b + 28, 4, 0xFFFF);
	for (unsigned i = 0; i < 16; i++) {
		b[208 + i] = (uint8_t)(0x30 + i);      /* xmm3 */
		b[576 + 48 + i] = (uint8_t)(0x40 + i); /* ymmh3 */
	}
	for (unsigned i = 0; i < 32; i++)
		b[1152 + 96 + i] = (uint8_t)(0x50 + i);		/* zmmh3 */
	vt_put(b + 1088 + 40, 8, UINT64_C(0x1122334455667788)); /* k5 */
	for (unsigned i = 0; i < 64; i++)
		b[1664 + 4 * 64 + i] = (uint8_t)(0x80 + i); /* zmm20 */
	vt_put(b + 2688, 4, 0x55555554);		    /* PKRU */
	vt_put(b + 512, 8, 0x2e7);
}

static void decode(const struct vx_profile *p, const uint8_t *buf, size_t len,
		   struct vx_vmm_xsave_view *v)
{
	struct vx_vmm_blob b = vt_parse(buf, len, VX_VMM_BLOB_AUTO);
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_vmm_xsave_decode(p, &b, v, &err), 0);
}

static uint64_t reg_u64(const struct vx_vmm_xsave_view *v, const char *name)
{
	struct vx_error err = VX_ERROR_INIT;
	uint8_t value[8] = {0};
	uint32_t w = 0;

	if (vx_vmm_xsave_reg(v, name, value, sizeof(value), &w, &err) != 0)
		fail_msg("%s: %s", name, err.reason);
	return vt_get(value, w);
}

static void reg_bytes(const struct vx_vmm_xsave_view *v, const char *name, uint8_t *out,
		      uint32_t want)
{
	struct vx_error err = VX_ERROR_INIT;
	uint32_t w = 0;

	if (vx_vmm_xsave_reg(v, name, out, 1024, &w, &err) != 0)
		fail_msg("%s: %s", name, err.reason);
	assert_int_equal(w, want);
}

static void test_decode_registers(void **state)
{
	static struct vx_vmm_xsave_view v;
	struct vx_profile spr;
	struct vx_vmm_x87 x87;
	uint8_t value[1024];

	(void)state;
	vt_profile(&spr, SPR);
	build_spr_blob(blob_buf);
	decode(&spr, blob_buf, 4096, &v);
	assert_int_equal(reg_u64(&v, "fcw"), 0x027F);
	assert_int_equal(reg_u64(&v, "mxcsr"), 0x1F84);
	assert_true(reg_u64(&v, "k5") == UINT64_C(0x1122334455667788));
	assert_int_equal(reg_u64(&v, "pkru"), 0x55555554);
	reg_bytes(&v, "ymm3", value, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(value[i], 0x30 + i);
	reg_bytes(&v, "zmm3", value, 64);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(value[i], 0x30 + i);
	reg_bytes(&v, "zmm20", value, 64);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(value[i], 0x80 + i);
	/* Components: TILECFG laid out and in init, TILEDATA past the 4096 bytes. */
	assert_true(v.comp[2].in_xstate_bv && v.comp[2].located && v.comp[2].offset == 576);
	assert_true(v.comp[5].offset == 1088 && v.comp[7].offset == 1664);
	assert_true(v.comp[17].listed && !v.comp[17].in_xstate_bv && v.comp[17].bytes_init);
	assert_true(v.comp[17].offset == 2752);
	assert_true(v.comp[18].truncated);
	assert_true(v.sw_xcr0 == 0 && v.reserved_nonzero == 0 && v.mxcsr_loaded);
	/* x87: ST0 = R6 = 1.0 valid, ST1 = R7 zero, the rest empty; full tag word 0x4FFF. */
	vx_vmm_x87_decode(blob_buf, &x87);
	assert_int_equal(x87.top, 6);
	assert_int_equal(x87.st[0].phys, 6);
	assert_int_equal(x87.st[0].tag, VX_X87_VALID);
	assert_true(x87.st[0].value == 1.0);
	assert_int_equal(x87.st[1].tag, VX_X87_ZERO);
	assert_int_equal(x87.st[3].tag, VX_X87_EMPTY);
	assert_int_equal(x87.full_tag_word, 0x4FFF);
	/* AVX out of XSTATE_BV: YMM upper halves are init (0), XMM stays; bytes not init. */
	vt_put(blob_buf + 512, 8, 0x2e3);
	decode(&spr, blob_buf, 4096, &v);
	reg_bytes(&v, "ymm3", value, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(value[i], i < 16 ? 0x30 + i : 0);
	assert_true(!v.comp[2].in_xstate_bv && !v.comp[2].bytes_init);
	/* YMM alone: x87 init (FCW 0x037F), XMM 0, MXCSR still loaded (linux-fpu.md §7.2). */
	vt_put(blob_buf + 512, 8, 0x4);
	decode(&spr, blob_buf, 4096, &v);
	assert_int_equal(reg_u64(&v, "fcw"), 0x037F);
	assert_int_equal(reg_u64(&v, "ftw"), 0);
	assert_int_equal(reg_u64(&v, "mxcsr"), 0x1F84);
	reg_bytes(&v, "xmm3", value, 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(value[i], 0);
	vt_put(blob_buf + 512, 8, 0);
	decode(&spr, blob_buf, 4096, &v);
	assert_int_equal(reg_u64(&v, "mxcsr"), 0x1F80);
}

static void test_decode_layouts(void **state)
{
	static struct vx_vmm_xsave_view v;
	struct vx_profile spr, zen4;
	struct vx_error err = VX_ERROR_INIT;
	uint8_t value[64];

	(void)state;
	vt_profile(&spr, SPR);
	vt_profile(&zen4, ZEN4);
	/* The Intel blob read with AMD's offsets: k5 comes from 832 + 40, a hole on Intel. */
	build_spr_blob(blob_buf);
	decode(&zen4, blob_buf, 4096, &v);
	assert_true(reg_u64(&v, "k5") == 0);
	assert_true(v.comp[5].offset == 832 && v.comp[9].offset == 2432);
	/* Compacted 0x207: YMM at 576, PKRU at 832 (arch.md §2.4). */
	memset(blob_buf, 0, 1024);
	vt_put(blob_buf, 2, 0x037F);
	vt_put(blob_buf + 24, 4, 0x1F80);
	vt_put(blob_buf + 512, 8, 0x206);
	vt_put(blob_buf + 520, 8, UINT64_C(0x8000000000000207));
	vt_put(blob_buf + 832, 4, 0x12345678);
	blob_buf[576 + 16 * 15] = 0xEE; /* ymmh15 low byte */
	decode(&spr, blob_buf, 840, &v);
	assert_int_equal(reg_u64(&v, "pkru"), 0x12345678);
	assert_int_equal(vx_vmm_xsave_reg(&v, "ymm15", value, sizeof(value), NULL, &err), 0);
	assert_int_equal(value[16], 0xEE);
	assert_true(v.comp[9].offset == 832 && v.comp[9].in_xcomp_bv);
	/* 0x60207: TILECFG rounded up to 896, TILEDATA at 960. */
	vt_put(blob_buf + 520, 8, UINT64_C(0x8000000000060207));
	decode(&spr, blob_buf, 840, &v);
	assert_true(v.comp[17].offset == 896 && v.comp[18].offset == 960);
	assert_true(v.comp[18].truncated);
	/* Register errors. */
	assert_int_equal(vx_vmm_xsave_reg(&v, "ymm16", value, sizeof(value), NULL, &err), -ENOENT);
	assert_int_equal(vx_vmm_xsave_reg(&v, "zmm3", value, 8, NULL, &err), -ENOSPC);
	vt_put(blob_buf + 512, 8, 0x40206); /* TILEDATA present but past the 840 bytes */
	decode(&spr, blob_buf, 840, &v);
	assert_int_equal(vx_vmm_xsave_reg(&v, "tmm0", value, sizeof(value), NULL, &err), -ENOSPC);
	assert_int_equal(vx_vmm_xsave_reg(&v, "tilecfg", value, sizeof(value), NULL, &err), 0);
	vt_put(blob_buf + 512, 8, UINT64_C(0x800)); /* CET_U: zen4 profile has it, SPR too */
	decode(&zen4, blob_buf, 840, &v);
	assert_true(v.comp[11].listed && !v.comp[11].located);
}

static void test_flags_and_tilecfg(void **state)
{
	struct vx_vmm_tilecfg cfg;
	uint8_t raw[64] = {0};
	char text[200];

	(void)state;
	vx_vmm_flags_format(VX_VMM_FLAGS_MXCSR, 0x1F84, text, sizeof(text));
	assert_string_equal(text, "ZE|IM|DM|ZM|OM|UM|PM|RC=nearest");
	vx_vmm_flags_format(VX_VMM_FLAGS_FCW, 0x027F, text, sizeof(text));
	assert_string_equal(text, "IM|DM|ZM|OM|UM|PM|PC=double|RC=nearest|bit6");
	vx_vmm_flags_format(VX_VMM_FLAGS_FSW, 0x3200, text, sizeof(text));
	assert_string_equal(text, "C1|TOP=0x6");
	vx_vmm_flags_format(VX_VMM_FLAGS_U_CET, 0x1003, text, sizeof(text));
	assert_string_equal(text, "SH_STK_EN|WR_SHSTK_EN|EB_LEG_BITMAP_BASE=0x1");
	vx_vmm_flags_format(VX_VMM_FLAGS_U_CET, 0x40, text, sizeof(text));
	assert_string_equal(text, "bit6");
	assert_int_equal(vx_vmm_flags_format(VX_VMM_FLAGS_MXCSR, 0x1F80, text, 4), 28);
	assert_string_equal(text, "IM|");
	raw[0] = 1;
	raw[16] = 64;
	raw[48] = 16;
	raw[49 + 6] = 3;
	vx_vmm_tilecfg_decode(raw, &cfg);
	assert_int_equal(cfg.palette, 1);
	assert_int_equal(cfg.colsb[0], 64);
	assert_int_equal(cfg.rows[0], 16);
	assert_int_equal(cfg.rows[7], 3);
	assert_false(cfg.reserved_nonzero);
}

/* Blobs the real KVM wrote (tests/fixtures/xsave/README.md): the registers loaded then. */
#define CAPTURE_SEED UINT64_C(0x66697874757265)

static size_t read_fixture(const char *name, uint8_t *buf)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/xsave/%s", VXSAVE_FIXTURE_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, BUF, f);
	fclose(f);
	return n;
}

static void test_fixture_blobs(void **state)
{
	static struct vx_vmm_xsave_view v;
	struct vx_profile zen4;
	uint8_t value[64];
	uint64_t s = CAPTURE_SEED;
	size_t n;

	(void)state;
	vt_profile(&zen4, ZEN4);
	vt_kvm_blob(&zen4, 0x7, &s, out_buf, 4096); /* what was loaded */
	n = read_fixture("host-xsave2-all.bin", blob_buf);
	assert_int_equal(n, 4096);
	decode(&zen4, blob_buf, n, &v);
	assert_int_equal(v.blob.kind, VX_VMM_BLOB_KVM);
	assert_int_equal(v.blob.xstate_bv, 0x7);
	assert_int_equal(v.sw_xcr0, 0x7); /* the kernel's XCR0 at 464 (linux-fpu.md §7.1) */
	assert_int_equal(reg_u64(&v, "fcw"), vt_get(out_buf, 2));
	assert_int_equal(reg_u64(&v, "mxcsr"), vt_get(out_buf + 24, 4));
	for (unsigned i = 0; i < 16; i++) {
		char name[8];

		snprintf(name, sizeof(name), "ymm%u", i);
		reg_bytes(&v, name, value, 32);
		assert_memory_equal(value, out_buf + 160 + 16 * i, 16);
		assert_memory_equal(value + 16, out_buf + 576 + 16 * i, 16);
	}
	for (unsigned i = 0; i < 8; i++) {
		char name[8];

		snprintf(name, sizeof(name), "st%u", i);
		reg_bytes(&v, name, value, 10);
		assert_memory_equal(value, out_buf + 32 + 16 * i, 10);
	}
	/* SSE alone: XMM as loaded, x87 in its initial configuration. */
	s = CAPTURE_SEED;
	vt_kvm_blob(&zen4, 0x2, &s, out_buf, 4096);
	n = read_fixture("host-xsave2-sse.bin", blob_buf);
	decode(&zen4, blob_buf, n, &v);
	assert_int_equal(v.blob.xstate_bv, 0x2);
	assert_int_equal(reg_u64(&v, "fcw"), 0x037F);
	reg_bytes(&v, "xmm9", value, 16);
	assert_memory_equal(value, out_buf + 160 + 16 * 9, 16);
	/* The initial state: FCW 0x037F, MXCSR 0x1F80 in the bytes too (kvm.md §5.2). */
	n = read_fixture("host-xsave2-init.bin", blob_buf);
	decode(&zen4, blob_buf, n, &v);
	assert_int_equal(v.blob.xstate_bv, 0);
	assert_true(v.comp[0].bytes_init && v.comp[1].bytes_init && v.comp[2].bytes_init);
	assert_int_equal(vt_get(blob_buf, 2), 0x037F);
	assert_int_equal(vt_get(blob_buf + 24, 4), 0x1F80);
}

/* ----------------------------------------------------------------------------------------- */
/* Conversion                                                                                   */

static void init_conv(struct vx_vmm_converter *c, const struct vx_profile *from,
		      const struct vx_profile *to, enum vx_vmm_blob_kind kind, uint32_t size)
{
	struct vx_vmm_convert_options o = {from, to, kind, size, 0, VX_VMM_CONVERT_NOTES};
	struct vx_error err = VX_ERROR_INIT;

	if (vx_vmm_converter_init(c, &o, &err) != 0)
		fail_msg("converter %s -> %s: %s", from->name, to->name, err.reason);
}

static size_t convert(const struct vx_vmm_converter *c, const uint8_t *src, size_t len,
		      uint8_t *dst)
{
	struct vx_vmm_blob b = vt_parse(src, len, VX_VMM_BLOB_AUTO);
	static struct vx_vmm_report r;
	struct vx_error err = VX_ERROR_INIT;
	size_t n = vx_vmm_convert_size(c, &b);

	memset(dst, 0xA5, BUF);
	if (vx_vmm_convert(c, &b, dst, BUF, &r, &err) != 0)
		fail_msg("convert %s -> %s: %s", c->opt.from->name, c->opt.to->name, err.reason);
	for (size_t i = n; i < BUF; i++) /* nothing past the result */
		if (dst[i] != 0xA5)
			fail_msg("convert %s -> %s wrote byte %zu of a %zu-byte result",
				 c->opt.from->name, c->opt.to->name, i, n);
	return n;
}

/* A random XSTATE_BV within @mask; SSE whenever YMM or FP is there (a real save, arch.md
 * §5.3: XSAVES records SSE with a non-default MXCSR). */
static uint64_t random_bv(uint64_t mask)
{
	uint64_t bv = vt_next(&seed_state) & mask;

	return (bv & 5) ? bv | 2 : bv;
}

/* The compacted walk of arch.md §2.4 over the raw leaves: the offset of @id in @layout. */
static uint32_t walk(const struct vx_profile *p, uint64_t layout, unsigned id)
{
	uint32_t at = 576;

	for (unsigned i = 2; i < 63; i++) {
		struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, i);

		if (!(layout & ((uint64_t)1 << i)))
			continue;
		if (r.ecx & 2)
			at = (at + 63) & ~63u;
		if (i == id)
			return at;
		at += r.eax;
	}
	return 0;
}

/* The end of that walk: the compacted size (576 + components, aligned). */
static uint32_t walk_end(const struct vx_profile *p, uint64_t layout)
{
	uint32_t at = 576;

	for (unsigned i = 2; i < 63; i++) {
		struct vx_cpuid_regs r = vx_profile_leaf(p, 0xD, i);

		if (!(layout & ((uint64_t)1 << i)))
			continue;
		if (r.ecx & 2)
			at = (at + 63) & ~63u;
		at += r.eax;
	}
	return at;
}

static void check_placed(const struct vx_profile *p, const uint8_t *src, const uint8_t *dst,
			 uint64_t bv, uint64_t layout, bool compacted)
{
	for (unsigned id = 2; id < 63; id++) {
		uint32_t off, size, at;

		if (!(bv & ((uint64_t)1 << id)))
			continue;
		vt_comp(p, id, &off, &size);
		at = compacted ? walk(p, layout, id) : off;
		if (memcmp(src + off, dst + at, size) != 0)
			fail_msg("%s: component %u not at %u", p->name, id, at);
	}
}

static void test_roundtrip_compacted(void **state)
{
	unsigned tested = 0;

	(void)state;
	for (unsigned i = 0; i < vx_builtin_profile_count(); i++) {
		struct vx_profile p;
		struct vx_vmm_converter to_c, to_s;
		uint64_t user;
		uint32_t size;

		vt_profile(&p, vx_builtin_profile_name(i));
		if (!p.xsave.xsavec)
			continue; /* no compacted form here (arch.md §1.3) */
		user = vt_user_mask(&p);
		size = vt_std_size(&p);
		init_conv(&to_c, &p, &p, VX_VMM_BLOB_COMPACTED, 0);
		init_conv(&to_s, &p, &p, VX_VMM_BLOB_STANDARD, size);
		for (unsigned r = 0; r < ROUNDS; r++) {
			uint64_t bv = r == 0 ? user : random_bv(user);
			size_t n;

			vt_kvm_blob(&p, bv, &seed_state, blob_buf, size);
			n = convert(&to_c, blob_buf, size, out_buf);
			assert_true(vt_get(out_buf + 520, 8) == (user | UINT64_C(1) << 63));
			assert_true(vt_get(out_buf + 512, 8) == bv);
			assert_int_equal(n, walk_end(&p, user));
			check_placed(&p, blob_buf, out_buf, bv, user, true);
			memset(back_buf, 0xA5, BUF);
			assert_int_equal(convert(&to_s, out_buf, n, back_buf), size);
			if (memcmp(blob_buf, back_buf, size) != 0)
				fail_msg("%s: std -> compacted -> std differs (bv 0x%llx)", p.name,
					 (unsigned long long)bv);
			tested++;
		}
	}
	printf("std -> compacted -> std: %u blobs byte-identical\n", tested);
	assert_true(tested >= 10 * ROUNDS);
}

/*
 * XCOMP_BV = bit 63 alone is a compacted area of the legacy region and the header only (what
 * XSAVEC writes with RFBM 0, arch.md §2.4).  Converted to standard and back with that layout
 * asked for exactly (VX_VMM_CONVERT_EXACT_LAYOUT: 0 is otherwise "the default layout"), the
 * bytes come back; a blob with a component outside the empty layout is refused.  Found by
 * fuzz_xsave_blob (fuzz/regressions/xsave_blob/empty-compacted-layout).
 */
static void test_empty_compacted_layout(void **state)
{
	struct vx_vmm_convert_options o = {NULL, NULL, VX_VMM_BLOB_COMPACTED,
					   600,	 0,    VX_VMM_CONVERT_EXACT_LAYOUT};
	struct vx_vmm_converter to_s, back, dflt;
	struct vx_error err = VX_ERROR_INIT;
	static struct vx_vmm_report r;
	struct vx_profile p;
	struct vx_vmm_blob b;
	uint8_t src[600] = {0};
	size_t n;

	(void)state;
	vt_profile(&p, "zen4");
	o.from = o.to = &p;
	src[0] = 0x7f, src[1] = 0x03, src[5] = 0x05; /* FCW 0x037f, a reserved byte set */
	src[28] = 0x80, src[29] = 0x1f;		     /* MXCSR_MASK */
	src[527] = 0x80;			     /* XCOMP_BV = bit 63, XSTATE_BV = 0 */
	init_conv(&to_s, &p, &p, VX_VMM_BLOB_STANDARD, 0);
	n = convert(&to_s, src, sizeof(src), out_buf);
	if (vx_vmm_converter_init(&back, &o, &err) != 0)
		fail_msg("exact empty layout: %s", err.reason);
	assert_int_equal(convert(&back, out_buf, n, back_buf), sizeof(src));
	assert_memory_equal(back_buf, src, sizeof(src));
	/* Without the flag, 0 is the default layout: the target's XCR0 components. */
	o.flags = 0;
	assert_int_equal(vx_vmm_converter_init(&dflt, &o, &err), 0);
	(void)convert(&dflt, out_buf, n, back_buf);
	assert_true(vt_get(back_buf + 520, 8) == (vt_user_mask(&p) | UINT64_C(1) << 63));
	/* AVX in use does not fit an empty layout: refused, nothing written. */
	out_buf[512] |= 0x4;
	b = vt_parse(out_buf, n, VX_VMM_BLOB_AUTO);
	memset(back_buf, 0xA5, BUF);
	assert_int_equal(vx_vmm_convert(&back, &b, back_buf, BUF, &r, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "layout"));
	assert_int_equal(back_buf[0], 0xA5);
}

/* Components both hosts enumerate with the same size (vmm.h: the others are refused). */
static uint64_t common_mask(const struct vx_profile *a, const struct vx_profile *b)
{
	uint64_t m = vt_user_mask(a) & vt_user_mask(b);

	for (unsigned id = 2; id < 63; id++) {
		uint32_t oa, sa, ob, sb;

		if (!(m & ((uint64_t)1 << id)))
			continue;
		vt_comp(a, id, &oa, &sa);
		vt_comp(b, id, &ob, &sb);
		if (sa != sb)
			m &= ~((uint64_t)1 << id);
	}
	return m;
}

static void test_roundtrip_hosts(void **state)
{
	unsigned n = vx_builtin_profile_count(), pairs = 0, moved = 0;

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = 0; j < n; j++) {
			struct vx_profile a, b;
			struct vx_vmm_converter ab, ba;
			uint32_t sa;
			uint64_t common;

			vt_profile(&a, vx_builtin_profile_name(i));
			vt_profile(&b, vx_builtin_profile_name(j));
			sa = vt_std_size(&a);
			common = common_mask(&a, &b);
			init_conv(&ab, &a, &b, VX_VMM_BLOB_STANDARD, 0);
			init_conv(&ba, &b, &a, VX_VMM_BLOB_STANDARD, sa);
			for (unsigned r = 0; r < 2; r++) {
				uint64_t bv = r == 0 ? common : random_bv(common);
				size_t mid;

				vt_kvm_blob(&a, bv, &seed_state, blob_buf, sa);
				mid = convert(&ab, blob_buf, sa, out_buf);
				assert_int_equal(mid, vt_std_size(&b));
				/* Each component at B's standard offset (its raw leaf). */
				for (unsigned id = 2; id < 63; id++) {
					uint32_t oa, s, ob, sb;

					if (!(bv & ((uint64_t)1 << id)))
						continue;
					vt_comp(&a, id, &oa, &s);
					vt_comp(&b, id, &ob, &sb);
					assert_memory_equal(blob_buf + oa, out_buf + ob, s);
					moved += oa != ob;
				}
				assert_int_equal(convert(&ba, out_buf, mid, back_buf), sa);
				if (memcmp(blob_buf, back_buf, sa) != 0)
					fail_msg("%s -> %s -> %s differs (bv 0x%llx)", a.name,
						 b.name, a.name, (unsigned long long)bv);
			}
			pairs++;
		}
	}
	printf("host A -> B -> A: %u profile pairs byte-identical, %u components moved\n", pairs,
	       moved);
	assert_int_equal(pairs, n * n);
	assert_true(moved > 0);
}

/* zen4's AVX-512 and PKRU land at Intel's offsets (arch.md §2.6), by hand. */
static void test_amd_to_intel_offsets(void **state)
{
	struct vx_profile spr, zen4;
	struct vx_vmm_converter c;

	(void)state;
	vt_profile(&spr, SPR);
	vt_profile(&zen4, ZEN4);
	vt_kvm_blob(&zen4, 0x2e7, &seed_state, blob_buf, 4096);
	init_conv(&c, &zen4, &spr, VX_VMM_BLOB_KVM, 0);
	assert_int_equal(convert(&c, blob_buf, 4096, out_buf), 4096);
	assert_memory_equal(blob_buf + 832, out_buf + 1088, 64);
	assert_memory_equal(blob_buf + 896, out_buf + 1152, 512);
	assert_memory_equal(blob_buf + 1408, out_buf + 1664, 1024);
	assert_memory_equal(blob_buf + 2432, out_buf + 2688, 8);
	assert_memory_equal(blob_buf, out_buf, 576);
	for (unsigned i = 832; i < 1088; i++) /* the hole between YMM and opmask on Intel */
		assert_int_equal(out_buf[i], 0);
}

static void test_resize(void **state)
{
	struct vx_profile spr, zen4;
	struct vx_vmm_converter up, down, z;

	(void)state;
	vt_profile(&spr, SPR);
	vt_profile(&zen4, ZEN4);
	init_conv(&up, &spr, &spr, VX_VMM_BLOB_KVM2, 0);
	init_conv(&down, &spr, &spr, VX_VMM_BLOB_KVM, 0);
	init_conv(&z, &zen4, &zen4, VX_VMM_BLOB_KVM2, 0);
	assert_int_equal(up.size, AMX_SIZE);
	assert_int_equal(z.size, 4096); /* max(4096, 2440): KVM_CAP_XSAVE2 (kvm.md §5.1) */
	vt_kvm_blob(&spr, 0x602e7 & ~UINT64_C(0x40000), &seed_state, blob_buf, 4096);
	assert_int_equal(convert(&up, blob_buf, 4096, out_buf), AMX_SIZE);
	assert_memory_equal(blob_buf, out_buf, 4096);
	for (unsigned i = 4096; i < AMX_SIZE; i++)
		assert_int_equal(out_buf[i], 0);
	assert_int_equal(convert(&down, out_buf, AMX_SIZE, back_buf), 4096);
	assert_memory_equal(blob_buf, back_buf, 4096);
	/* With tile data the blob is 11008 bytes and goes back and forth through compacted. */
	vt_kvm_blob(&spr, 0x602e7, &seed_state, blob_buf, AMX_SIZE);
	assert_int_equal(convert(&up, blob_buf, AMX_SIZE, out_buf), AMX_SIZE);
	assert_memory_equal(blob_buf, out_buf, AMX_SIZE);
}

/* ----------------------------------------------------------------------------------------- */
/* Refusals                                                                                     */

static int refused(const struct vx_vmm_converter *c, const uint8_t *src, size_t len,
		   struct vx_vmm_report *r)
{
	struct vx_vmm_blob b = vt_parse(src, len, VX_VMM_BLOB_AUTO);
	struct vx_error err = VX_ERROR_INIT;
	int rc;

	memset(out_buf, 0x5A, BUF);
	rc = vx_vmm_convert(c, &b, out_buf, BUF, r, &err);
	if (rc == -EINVAL)
		for (unsigned i = 0; i < BUF; i++)
			if (out_buf[i] != 0x5A)
				fail_msg("a refused conversion wrote byte %u", i);
	return rc;
}

static bool has_reason(const struct vx_vmm_report *r, uint64_t bits, const char *text)
{
	for (unsigned i = 0; i < r->count; i++)
		if (r->items[i].refuses && (!bits || r->items[i].err.bits == bits) &&
		    strstr(r->items[i].err.reason, text))
			return true;
	return false;
}

static void test_refusals(void **state)
{
	static struct vx_vmm_report r;
	struct vx_profile spr, zen3, zen4, narrow, small_avx, zx;
	struct vx_vmm_converter c;
	struct vx_vmm_convert_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_cpuid_regs avx;

	(void)state;
	vt_profile(&spr, SPR);
	vt_profile(&zen3, "zen3");
	vt_profile(&zen4, ZEN4);
	vt_profile(&zx, "zhaoxin-kh40000");
	/* AMX tile data cannot go into a 4096-byte kvm_xsave (anchors.md §3 pain 1). */
	vt_kvm_blob(&spr, 0x602e7, &seed_state, blob_buf, AMX_SIZE);
	init_conv(&c, &spr, &spr, VX_VMM_BLOB_KVM, 0);
	assert_int_equal(refused(&c, blob_buf, AMX_SIZE, &r), -EINVAL);
	assert_int_equal(r.refusals, 1);
	assert_true(has_reason(&r, UINT64_C(0x40000), "does not fit"));
	assert_int_equal(r.items[0].err.offset, 2816);
	/* AVX-512 to a host without it: opmask, ZMM_Hi256, Hi16_ZMM each named. */
	vt_kvm_blob(&spr, 0x2e7, &seed_state, blob_buf, 4096);
	init_conv(&c, &spr, &zen3, VX_VMM_BLOB_STANDARD, 0);
	assert_int_equal(refused(&c, blob_buf, 4096, &r), -EINVAL);
	assert_int_equal(r.refusals, 3);
	assert_true(has_reason(&r, 0x20, "not supported on 'zen3'"));
	assert_true(has_reason(&r, 0x40, "not supported"));
	assert_true(has_reason(&r, 0x80, "not supported"));
	/* Header: XCOMP_BV in a standard blob, a reserved byte, XSTATE_BV bit 63: three. */
	vt_put(blob_buf + 520, 8, 0x5);
	blob_buf[530] = 1;
	init_conv(&c, &spr, &spr, VX_VMM_BLOB_KVM, 0);
	assert_int_equal(refused(&c, blob_buf, 4096, &r), -EINVAL);
	assert_int_equal(r.refusals, 2);
	assert_true(has_reason(&r, 0, "reserved header byte 530"));
	assert_true(has_reason(&r, 0x5, "XCOMP_BV 0x5"));
	/* A supervisor component cannot go to the standard format (kvm.md §5.4). */
	memset(blob_buf, 0, 1024);
	vt_put(blob_buf, 2, 0x037F);
	vt_put(blob_buf + 512, 8, 0x800);
	vt_put(blob_buf + 520, 8, UINT64_C(0x8000000000000803));
	vt_put(blob_buf + 576, 8, 1); /* U_CET = SH_STK_EN */
	init_conv(&c, &spr, &spr, VX_VMM_BLOB_STANDARD, 0);
	assert_int_equal(refused(&c, blob_buf, 592, &r), -EINVAL);
	assert_true(has_reason(&r, 0x800, "supervisor"));
	init_conv(&c, &spr, &zen4, VX_VMM_BLOB_COMPACTED, 0); /* compacted keeps it */
	assert_int_equal(refused(&c, blob_buf, 592, &r), 0);
	assert_true(vt_get(out_buf + 520, 8) == (UINT64_C(0x80000000000002e7) | 0x800));
	assert_int_equal(vt_get(out_buf + 2440, 8), 1); /* zen4: 2432 + PKRU 8 → CET_U */
	/* XSTATE_BV outside XCOMP_BV (arch.md §5.5). */
	vt_put(blob_buf + 512, 8, 0x804);
	assert_int_equal(refused(&c, blob_buf, 592, &r), -EINVAL);
	assert_true(has_reason(&r, 0x4, "outside XCOMP_BV"));
	/* MXCSR: DAZ (bit 6) on a host whose MXCSR_MASK is 0xFFBF. */
	narrow = zen4;
	narrow.mxcsr_mask = 0xFFBF;
	vt_kvm_blob(&zen4, 0x3, &seed_state, blob_buf, 2440);
	vt_put(blob_buf + 24, 4, 0x1FC0);
	init_conv(&c, &zen4, &narrow, VX_VMM_BLOB_STANDARD, 0);
	assert_int_equal(refused(&c, blob_buf, 2440, &r), -EINVAL);
	assert_true(has_reason(&r, 0x40, "MXCSR 0x00001fc0"));
	/* A component whose size differs between the hosts. */
	small_avx = zen4;
	avx = vx_profile_leaf(&zen4, 0xD, 2);
	avx.eax = 128;
	assert_int_equal(vx_profile_set_leaf(&small_avx, 0xD, 2, &avx), 0);
	vt_kvm_blob(&zen4, 0x7, &seed_state, blob_buf, 2440);
	init_conv(&c, &zen4, &small_avx, VX_VMM_BLOB_STANDARD, 0);
	assert_int_equal(refused(&c, blob_buf, 2440, &r), -EINVAL);
	assert_true(has_reason(&r, 0x4, "256 bytes on 'zen4' but 128"));
	/* A component past the end of the source. */
	vt_kvm_blob(&spr, 0x602e7, &seed_state, blob_buf, AMX_SIZE);
	init_conv(&c, &spr, &spr, VX_VMM_BLOB_KVM2, 0);
	assert_int_equal(refused(&c, blob_buf, 4096, &r), -EINVAL);
	assert_true(has_reason(&r, 0x40000, "runs past"));
	/* The destination too small: -ENOSPC, no report entries. */
	{
		struct vx_vmm_blob b = vt_parse(blob_buf, AMX_SIZE, VX_VMM_BLOB_AUTO);

		assert_int_equal(vx_vmm_convert(&c, &b, out_buf, 4096, &r, &err), -ENOSPC);
		assert_int_equal(r.count, 0);
	}
	/* Bad options. */
	o = (struct vx_vmm_convert_options){&spr, &spr, VX_VMM_BLOB_AUTO, 0, 0, 0};
	assert_int_equal(vx_vmm_converter_init(&c, &o, &err), -EINVAL);
	o.kind = VX_VMM_BLOB_KVM;
	o.size = 8192;
	assert_int_equal(vx_vmm_converter_init(&c, &o, &err), -EINVAL);
	o.kind = VX_VMM_BLOB_KVM2;
	o.size = 4098;
	assert_int_equal(vx_vmm_converter_init(&c, &o, &err), -EINVAL);
	o = (struct vx_vmm_convert_options){&spr, &zx, VX_VMM_BLOB_COMPACTED, 0, 0, 0};
	assert_int_equal(vx_vmm_converter_init(&c, &o, &err), -EINVAL);
	assert_non_null(strstr(err.reason, "XSAVEC"));
}

/* Notes and the two rules that change bytes: sigframe software bytes, SSE for MXCSR. */
static void test_convert_notes(void **state)
{
	static struct vx_vmm_report r;
	struct vx_profile zen4;
	struct vx_vmm_converter c;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_blob b;

	(void)state;
	vt_profile(&zen4, ZEN4);
	/* Garbage in an init component's bytes is not carried, and the note says where. */
	vt_kvm_blob(&zen4, 0x3, &seed_state, blob_buf, 4096);
	blob_buf[900] = 0x77;
	init_conv(&c, &zen4, &zen4, VX_VMM_BLOB_KVM, 0);
	b = vt_parse(blob_buf, 4096, VX_VMM_BLOB_AUTO);
	assert_int_equal(vx_vmm_convert(&c, &b, out_buf, BUF, &r, &err), 0);
	assert_int_equal(out_buf[900], 0);
	assert_int_equal(r.count, 1);
	assert_false(r.items[0].refuses);
	assert_int_equal(r.items[0].err.offset, 900);
	/* YMM with a non-default MXCSR but no SSE: the compacted result records SSE. */
	vt_kvm_blob(&zen4, 0x4, &seed_state, blob_buf, 2440);
	vt_put(blob_buf + 24, 4, 0x1F00);
	init_conv(&c, &zen4, &zen4, VX_VMM_BLOB_COMPACTED, 0);
	b = vt_parse(blob_buf, 2440, VX_VMM_BLOB_AUTO);
	assert_int_equal(vx_vmm_convert(&c, &b, out_buf, BUF, &r, &err), 0);
	assert_int_equal(vt_get(out_buf + 512, 8), 0x6);
	assert_int_equal(vt_get(out_buf + 24, 4), 0x1F00);
	assert_int_equal(r.count, 1);
	assert_false(r.items[0].refuses);
	assert_non_null(strstr(r.items[0].err.reason, "SSE added"));
	/* A signal frame's software bytes do not survive into a KVM blob. */
	vt_kvm_blob(&zen4, 0x2e7, &seed_state, blob_buf, 2444);
	vt_put(blob_buf + 464, 4, 0x46505853);
	vt_put(blob_buf + 468, 4, 2444);
	vt_put(blob_buf + 472, 8, 0x2e7);
	vt_put(blob_buf + 480, 4, 2440);
	vt_put(blob_buf + 2440, 4, 0x46505845);
	init_conv(&c, &zen4, &zen4, VX_VMM_BLOB_KVM, 0);
	b = vt_parse(blob_buf, 2444, VX_VMM_BLOB_AUTO);
	assert_int_equal(b.kind, VX_VMM_BLOB_SIGFRAME);
	assert_int_equal(vx_vmm_convert(&c, &b, out_buf, BUF, &r, &err), 0);
	for (unsigned i = 464; i < 512; i++)
		assert_int_equal(out_buf[i], 0);
	assert_memory_equal(blob_buf + 576, out_buf + 576, 2440 - 576);
	assert_int_equal(out_buf[2440], 0);
}

/* ----------------------------------------------------------------------------------------- */
/* Validation on model hosts (kvm.md §5.3)                                                      */

static struct vx_vmm_host *host_up(const char *name, enum vx_kvm_flavour flavour)
{
	struct vx_vmm_host_options o;
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_host *h = NULL;
	struct vx_profile p;

	vt_profile(&p, name);
	vx_vmm_host_options_init(&o);
	o.flavour = (int)flavour;
	if (vx_vmm_host_create(&p, &o, &h, &err) != 0)
		fail_msg("host %s: %s", name, err.reason);
	return h;
}

static struct vx_vmm_vcpu *vcpu_up(struct vx_vmm_host *h, const struct vx_vmm_vcpu_config *c)
{
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_vcpu *v = NULL;

	if (vx_vmm_vcpu_create(h, c, &v, &err) != 0)
		fail_msg("vcpu: %s", err.reason);
	return v;
}

static const struct vx_vmm_finding *refusal(const struct vx_vmm_validation *val, unsigned i)
{
	static const struct vx_vmm_finding none;
	unsigned seen = 0;

	for (unsigned k = 0; k < val->report.count; k++)
		if (val->report.items[k].refuses && seen++ == i)
			return &val->report.items[k];
	fail_msg("no refusal %u", i);
	return &none;
}

static bool has_note(const struct vx_vmm_validation *val, uint64_t bits, const char *text)
{
	for (unsigned k = 0; k < val->report.count; k++)
		if (!val->report.items[k].refuses && val->report.items[k].err.bits == bits &&
		    strstr(val->report.items[k].err.reason, text))
			return true;
	return false;
}

static void validate(struct vx_vmm_vcpu *v, const uint8_t *buf, size_t len,
		     struct vx_vmm_validation *val)
{
	struct vx_vmm_blob b = vt_parse(buf, len, VX_VMM_BLOB_AUTO);
	struct vx_error err = VX_ERROR_INIT;

	assert_int_equal(vx_vmm_xsave_validate(v, &b, 0, val, &err), 0);
}

static void test_validate_accepts_and_loads(void **state)
{
	static struct vx_vmm_validation val;
	struct vx_vmm_vcpu_config cfg = {0};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_host *h = host_up(SPR, VX_KVM_VMX);
	struct vx_vmm_vcpu *v = vcpu_up(h, &cfg);
	struct vx_profile spr;

	(void)state;
	vt_profile(&spr, SPR);
	assert_int_equal(vx_vmm_vcpu_uabi_size(v), 4096);
	vt_kvm_blob(&spr, 0x2e7, &seed_state, blob_buf, 4096);
	validate(v, blob_buf, 4096, &val);
	assert_int_equal(val.rc, 0);
	assert_int_equal(val.report.refusals, 0);
	assert_true(val.supported_xcr0 == 0x602e7 && val.uabi_size == 4096);
	/* The vCPU holds the registers now: KVM_GET_XSAVE gives the components back. */
	assert_int_equal(vx_kvm_vcpu_get_xsave(vx_vmm_vcpu_kvm(v), false, out_buf, 4096, &err), 0);
	assert_memory_equal(blob_buf, out_buf, 416);
	assert_memory_equal(blob_buf + 512, out_buf + 512, 8);
	check_placed(&spr, blob_buf, out_buf, 0x2e4, 0, false);
	vx_vmm_vcpu_destroy(v);
	vx_vmm_host_destroy(h);
}

static void test_validate_every_rule(void **state)
{
	static struct vx_vmm_validation val;
	struct vx_vmm_vcpu_config cfg = {0};
	struct vx_error first = VX_ERROR_INIT;
	struct vx_vmm_host *h = host_up(SPR, VX_KVM_VMX);
	struct vx_vmm_vcpu *v = vcpu_up(h, &cfg), *fresh = vcpu_up(h, &cfg);
	struct vx_profile spr;

	(void)state;
	vt_profile(&spr, SPR);
	vt_kvm_blob(&spr, 0x2e7, &seed_state, blob_buf, 4096);
	vt_put(blob_buf + 512, 8, 0x2e7 | 0x800); /* CET_U: not in supported_xcr0 */
	vt_put(blob_buf + 520, 8, 0x1);		  /* XCOMP_BV */
	blob_buf[540] = 0xAB;			  /* reserved header byte */
	vt_put(blob_buf + 24, 4, 0x11F80);	  /* MXCSR bit 16 */
	validate(v, blob_buf, 4096, &val);
	assert_int_equal(val.rc, -EINVAL);
	/* kvm.md §5.3 / linux-fpu.md §7.3, §7.2 (a), (b), (c), MXCSR - the kernel's order. */
	assert_int_equal(val.report.refusals, 5);
	assert_string_equal(refusal(&val, 0)->err.rule, "linux-fpu.md §7.3");
	assert_int_equal(refusal(&val, 0)->err.bits, 0x800);
	assert_string_equal(refusal(&val, 1)->err.rule, "linux-fpu.md §7.2 (a)");
	assert_string_equal(refusal(&val, 2)->err.rule, "linux-fpu.md §7.2 (b)");
	assert_int_equal(refusal(&val, 3)->err.offset, 540);
	assert_int_equal(refusal(&val, 4)->err.bits, 0x10000);
	/* The first is exactly the ioctl's own refusal. */
	assert_int_equal(vx_kvm_vcpu_set_xsave(vx_vmm_vcpu_kvm(fresh), blob_buf, 4096, &first),
			 -EINVAL);
	assert_string_equal(refusal(&val, 0)->err.reason, first.reason);
	/* Verdict only: one refusal, no notes. */
	{
		struct vx_vmm_blob b = vt_parse(blob_buf, 4096, VX_VMM_BLOB_AUTO);

		assert_int_equal(vx_vmm_xsave_validate(v, &b, VX_VMM_VALIDATE_VERDICT, &val, NULL),
				 0);
		assert_int_equal(val.report.count, 1);
	}
	vx_vmm_vcpu_destroy(fresh);
	vx_vmm_vcpu_destroy(v);
	vx_vmm_host_destroy(h);
}

static void test_validate_sizes_and_notes(void **state)
{
	static struct vx_vmm_validation val;
	static struct vx_kvm_cpuid_entry cpuid[VX_KVM_MAX_CPUID_ENTRIES];
	struct vx_vmm_vcpu_config amx = {0}, narrow = {0};
	struct vx_error err = VX_ERROR_INIT;
	struct vx_vmm_host *h = host_up(SPR, VX_KVM_VMX);
	struct vx_vmm_vcpu *v;
	struct vx_profile spr, guest;

	(void)state;
	vt_profile(&spr, SPR);
	/* AMX permitted and enabled: KVM reads 11008 bytes, a 4096-byte blob is -EFAULT. */
	amx.dynamic_perm = true;
	v = vcpu_up(h, &amx);
	assert_int_equal(vx_vmm_vcpu_uabi_size(v), AMX_SIZE);
	vt_kvm_blob(&spr, 0x2e7, &seed_state, blob_buf, 4096);
	validate(v, blob_buf, 4096, &val);
	assert_int_equal(val.rc, -EFAULT);
	assert_int_equal(val.report.refusals, 1);
	assert_int_equal(refusal(&val, 0)->err.code, -EFAULT);
	vt_kvm_blob(&spr, 0x602e7, &seed_state, blob_buf, AMX_SIZE);
	validate(v, blob_buf, AMX_SIZE, &val);
	assert_int_equal(val.rc, 0);
	vx_vmm_vcpu_destroy(v);
	/* A guest CPUID without AVX-512, XCR0 x87|SSE|AVX: loaded, then notes. */
	guest = spr;
	assert_int_equal(vx_profile_derive(&guest, "-avx512,-amx", &err), 0);
	narrow.cpuid = cpuid;
	narrow.ncpuid = vx_vmm_guest_cpuid(&guest, cpuid, VX_KVM_MAX_CPUID_ENTRIES);
	narrow.set_xcr0 = true;
	narrow.xcr0 = 0x7;
	v = vcpu_up(h, &narrow);
	vt_kvm_blob(&spr, 0xe7, &seed_state, blob_buf, 4096);
	memset(blob_buf + 4000, 0x11, 8);
	validate(v, blob_buf, 4096, &val);
	assert_int_equal(val.rc, 0);
	assert_true(has_note(&val, 0xe0, "guest CPUID"));
	assert_true(has_note(&val, 0xe0, "XCR0 0x7"));
	assert_true(has_note(&val, 0x200, "PKRU"));
	/* Bytes past uabi_size: an 11008-byte blob on a 4096-byte vCPU. */
	memset(out_buf, 0, AMX_SIZE);
	memcpy(out_buf, blob_buf, 4096);
	out_buf[6000] = 0x42;
	validate(v, out_buf, AMX_SIZE, &val);
	assert_int_equal(val.rc, 0);
	assert_true(has_note(&val, 0, "past uabi_size 4096"));
	vx_vmm_vcpu_destroy(v);
	/* A guest XCR0 KVM refuses is a configuration error (kvm.md §4.3). */
	narrow.xcr0 = 0x5;
	assert_int_equal(vx_vmm_vcpu_create(h, &narrow, &v, &err), -EINVAL);
	vx_vmm_host_destroy(h);
}

/* ----------------------------------------------------------------------------------------- */
/* Nothing crashes, nothing is read out of bounds (run under ASan)                              */

static void fuzz_one(const struct vx_profile *spr, const struct vx_profile *zen4,
		     struct vx_vmm_vcpu *v, const uint8_t *buf, size_t len)
{
	static struct vx_vmm_xsave_view view;
	static struct vx_vmm_validation val;
	static struct vx_vmm_report r;
	struct vx_vmm_converter c;
	struct vx_vmm_blob b;
	uint8_t value[1024];

	if (vx_vmm_blob_parse(buf, len, VX_VMM_BLOB_AUTO, &b, NULL) != 0 &&
	    vx_vmm_blob_parse(buf, len, VX_VMM_BLOB_STANDARD, &b, NULL) != 0)
		return;
	assert_int_equal(vx_vmm_xsave_decode(spr, &b, &view, NULL), 0);
	for (unsigned i = 0; i < vx_area_field_count(); i++)
		vx_vmm_xsave_reg(&view, vx_area_field_at(i)->name, value, sizeof(value), NULL,
				 NULL);
	vx_vmm_xsave_reg(&view, "zmm7", value, sizeof(value), NULL, NULL);
	for (unsigned k = VX_VMM_BLOB_KVM; k <= VX_VMM_BLOB_COMPACTED; k++) {
		struct vx_vmm_convert_options o = {spr, zen4, (enum vx_vmm_blob_kind)k,
						   0,	0,    VX_VMM_CONVERT_NOTES};

		assert_int_equal(vx_vmm_converter_init(&c, &o, NULL), 0);
		vx_vmm_convert(&c, &b, out_buf, BUF, &r, NULL);
	}
	assert_int_equal(vx_vmm_xsave_validate(v, &b, 0, &val, NULL), 0);
}

static void test_fuzz(void **state)
{
	struct vx_profile spr, zen4;
	struct vx_vmm_vcpu_config cfg = {0};
	struct vx_vmm_host *h = host_up(SPR, VX_KVM_VMX);
	struct vx_vmm_vcpu *v = vcpu_up(h, &cfg);

	(void)state;
	vt_profile(&spr, SPR);
	vt_profile(&zen4, ZEN4);
	for (unsigned i = 0; i < FUZZ_CASES; i++) {
		size_t len = (size_t)(vt_next(&seed_state) % 12000);
		uint8_t *buf = malloc(len ? len : 1); /* exactly @len: ASan sees any overrun */

		vt_kvm_blob(&spr, random_bv(0x602e7 | 0x800), &seed_state, blob_buf, AMX_SIZE);
		for (unsigned m = vt_next(&seed_state) % 6; m; m--) /* header mutations */
			blob_buf[464 + vt_next(&seed_state) % 112] = (uint8_t)vt_next(&seed_state);
		if (i % 7 == 0)
			vt_put(blob_buf + 520, 8, vt_next(&seed_state) | UINT64_C(1) << 63);
		memcpy(buf, blob_buf, len);
		fuzz_one(&spr, &zen4, v, buf, len);
		free(buf);
	}
	printf("fuzz: %u cases\n", FUZZ_CASES);
	vx_vmm_vcpu_destroy(v);
	vx_vmm_host_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_kinds),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_decode_registers),
	    cmocka_unit_test(test_decode_layouts),
	    cmocka_unit_test(test_flags_and_tilecfg),
	    cmocka_unit_test(test_fixture_blobs),
	    cmocka_unit_test(test_roundtrip_compacted),
	    cmocka_unit_test(test_empty_compacted_layout),
	    cmocka_unit_test(test_roundtrip_hosts),
	    cmocka_unit_test(test_amd_to_intel_offsets),
	    cmocka_unit_test(test_resize),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_convert_notes),
	    cmocka_unit_test(test_validate_accepts_and_loads),
	    cmocka_unit_test(test_validate_every_rule),
	    cmocka_unit_test(test_validate_sizes_and_notes),
	    cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, setup_seed, NULL);
}
