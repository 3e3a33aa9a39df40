/* SPDX-License-Identifier: MIT */
/*
 * The drop-in /dev/kvm's context (kvm_ioctl.h, issue 8): the host chosen by options or the
 * environment, booted as the fpu layer and the KVM module; the VMM task; the descriptor table
 * (memfds, so that they are real descriptors distinct from the program's); open and close
 * with the kernel's lifetimes (a VM lives while a descriptor of it or of one of its vCPUs is
 * open; vCPUs live as long as their VM).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/dev_internal.h"

#define ENV_PROFILE   "VXSAVE_KVM_PROFILE"
#define ENV_DESIGN    "VXSAVE_KVM_DESIGN"
#define ENV_FLAVOUR   "VXSAVE_KVM_FLAVOUR"
#define ENV_SAFE_COPY "VXSAVE_KVM_SAFE_COPY"
#define ENV_GUEST     "VXSAVE_KVM_GUEST"
#define SYSFS_MODULE  "/sys/module"
#define MAX_DUMP      (1u << 20)

void vx_kvm_dev_options_init(struct vx_kvm_dev_options *o)
{
	memset(o, 0, sizeof(*o));
	o->design = VX_KVM_CET_GUEST_ONLY;
	o->flavour = -1;
	o->ncpus = 2;
	o->sysfs_module = SYSFS_MODULE;
}

/* ----------------------------------------------------------------------------------------- */
/* The host choice (issue 8: profile, CET_S design, KVM flavour from the environment)           */

static int env_design(struct vx_kvm_dev_options *o, const char *v, struct vx_error *err)
{
	int d = vx_kvm_cet_design_by_name(v);

	if (d < 0)
		return vx_error_set(err, -EINVAL, "kvm_ioctl.h",
				    ENV_DESIGN "=%s: not a CET_S design (unsupported, all-tasks, "
					       "guest-only, kvm-eager, kvm-lazy, kvm-user-return)",
				    v);
	o->design = d;
	return 0;
}

static int env_flavour(struct vx_kvm_dev_options *o, const char *v, struct vx_error *err)
{
	int f = strcmp(v, "detect") == 0 ? -1 : vx_kvm_flavour_by_name(v);

	if (f < 0 && strcmp(v, "detect") != 0)
		return vx_error_set(err, -EINVAL, "kvm_ioctl.h",
				    ENV_FLAVOUR "=%s: not a KVM flavour (vmx, svm, pvm, detect)",
				    v);
	o->flavour = f;
	return 0;
}

static int env_safe_copy(struct vx_kvm_dev_options *o, const char *v, struct vx_error *err)
{
	if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
		return vx_error_set(err, -EINVAL, "kvm_ioctl.h", ENV_SAFE_COPY "=%s: use 0 or 1",
				    v);
	o->safe_copy = v[0] == '1';
	return 0;
}

int vx_kvm_dev_options_from_env(struct vx_kvm_dev_options *o, struct vx_error *err)
{
	const char *profile = getenv(ENV_PROFILE), *design = getenv(ENV_DESIGN);
	const char *flavour = getenv(ENV_FLAVOUR), *safe = getenv(ENV_SAFE_COPY);
	const char *guest = getenv(ENV_GUEST);
	int rc = 0;

	vx_kvm_dev_options_init(o);
	/* An empty or "host" profile is the live host (the default). */
	if (profile && *profile && strcmp(profile, "host") != 0)
		o->profile = profile;
	if (design && *design)
		rc = env_design(o, design, err);
	if (!rc && flavour && *flavour)
		rc = env_flavour(o, flavour, err);
	if (!rc && safe && *safe)
		rc = env_safe_copy(o, safe, err);
	if (guest && *guest)
		o->guest = guest;
	return rc;
}

static bool module_loaded(const char *sysfs, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", sysfs, name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int vx_kvm_detect_flavour(const char *sysfs, enum vx_kvm_flavour *flavour)
{
	/* One row per vendor module, first match wins: kvm_pvm can sit beside either. */
	static const struct {
		const char *module;
		enum vx_kvm_flavour flavour;
	} modules[] = {{"kvm_pvm", VX_KVM_PVM}, {"kvm_intel", VX_KVM_VMX}, {"kvm_amd", VX_KVM_SVM}};

	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (module_loaded(sysfs ? sysfs : SYSFS_MODULE, modules[i].module)) {
			*flavour = modules[i].flavour;
			return 0;
		}
	return -ENOENT;
}

static int read_file(const struct vx_kvm_dev *dev, const char *path, char **text, size_t *len,
		     struct vx_error *err)
{
	FILE *f = fopen(path, "r");
	char *buf = f ? vx_dev_alloc(dev, MAX_DUMP + 1) : NULL;

	if (!f)
		return vx_error_set(err, -ENOENT, "kvm_ioctl.h",
				    ENV_PROFILE "=%s: neither a built-in profile nor a readable "
						"dump file",
				    path);
	if (!buf) {
		fclose(f);
		return vx_error_set(err, -ENOMEM, "kvm_ioctl.h", "no memory to read %s", path);
	}
	*len = fread(buf, 1, MAX_DUMP, f);
	fclose(f);
	buf[*len] = '\0';
	*text = buf;
	return 0;
}

static int load_profile(struct vx_kvm_dev *dev, struct vx_error *err)
{
	const char *name = dev->opts.profile;
	char *text = NULL;
	size_t len = 0;
	int rc;

	/* A booted system's host (kvm_ioctl.h @system). */
	if (dev->opts.system) {
		dev->profile = *vx_fpu_system_profile(dev->opts.system);
		snprintf(dev->profile_name, sizeof(dev->profile_name), "%s", dev->profile.name);
		return 0;
	}
	/* A profile the caller parsed: copied, no pointer kept past creation. */
	if (dev->opts.host_profile) {
		dev->profile = *dev->opts.host_profile;
		dev->opts.host_profile = NULL;
		snprintf(dev->profile_name, sizeof(dev->profile_name), "%s", dev->profile.name);
		return 0;
	}
	if (!name) {
		snprintf(dev->profile_name, sizeof(dev->profile_name), "host");
		return vx_profile_from_host(&dev->profile, err);
	}
	snprintf(dev->profile_name, sizeof(dev->profile_name), "%s", name);
	if (vx_builtin_profile_text(name))
		return vx_profile_builtin(&dev->profile, name, err);
	rc = read_file(dev, name, &text, &len, err);
	if (!rc)
		rc = vx_profile_parse_dump(&dev->profile, text, len, 0, err);
	vx_dev_free(dev, text);
	return rc;
}

/* ----------------------------------------------------------------------------------------- */
/* Boot                                                                                         */

static enum vx_kvm_flavour vendor_flavour(const struct vx_profile *p)
{
	return vx_profile_vendor(p) == VX_VENDOR_AMD ? VX_KVM_SVM : VX_KVM_VMX;
}

/* kvm.ignore_msrs as the loaded module has it (only for a detected, i.e. live, module). */
static bool sysfs_ignore_msrs(const char *sysfs)
{
	char path[512], c = 'N';
	FILE *f;

	snprintf(path, sizeof(path), "%s/kvm/parameters/ignore_msrs", sysfs);
	f = fopen(path, "r");
	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = 'N';
		fclose(f);
	}
	return c == 'Y' || c == '1';
}

static void module_options(const struct vx_kvm_dev *dev, struct vx_kvm_options *ko)
{
	enum vx_kvm_flavour flavour = vendor_flavour(&dev->profile);
	bool detected = false;

	if (dev->opts.flavour >= 0)
		flavour = (enum vx_kvm_flavour)dev->opts.flavour;
	else
		detected = vx_kvm_detect_flavour(dev->opts.sysfs_module, &flavour) == 0;
	vx_kvm_options_init(ko, flavour);
	ko->design = (enum vx_kvm_cet_design)dev->opts.design;
	if (detected)
		ko->ignore_msrs = sysfs_ignore_msrs(dev->opts.sysfs_module);
}

/* The fpu system the machine is built on: the caller's (kvm_ioctl.h @system), which must be
 * the one @design boots, or one booted here on the profile. */
static int host_system(struct vx_kvm_dev *dev, enum vx_kvm_cet_design design,
		       struct vx_error *err)
{
	struct vx_fpu_config config = VX_FPU_CONFIG_INIT;
	int rc;

	config.cet_design = vx_kvm_cet_design_fpu(design);
	config.platform = dev->pf;
	if (!dev->opts.system) {
		rc = vx_fpu_system_create(&dev->profile, &config, &dev->own_sys, err);
		dev->sys = dev->own_sys;
		return rc;
	}
	if (vx_fpu_system_config(dev->opts.system)->cet_design != config.cet_design)
		return vx_error_set(
		    err, -EINVAL, "kvm_ioctl.h", "the fpu system was booted for %s; design %s needs %s",
		    vx_fpu_cet_design_name(vx_fpu_system_config(dev->opts.system)->cet_design),
		    vx_kvm_cet_design_name(design), vx_fpu_cet_design_name(config.cet_design));
	dev->sys = dev->opts.system;
	return 0;
}

static int boot(struct vx_kvm_dev *dev, struct vx_error *err)
{
	struct vx_kvm_options ko;
	int rc;

	module_options(dev, &ko);
	rc = host_system(dev, ko.design, err);
	if (!rc)
		rc = vx_fpu_machine_create(dev->sys, dev->opts.ncpus, &dev->machine, err);
	if (!rc)
		rc = vx_fpu_process_create(dev->machine, &dev->task, err);
	/* The VMM thread is running when it makes its calls (kvm.md §6.2). */
	if (!rc)
		rc = vx_fpu_task_schedule(dev->task, 0, err);
	if (!rc)
		rc = vx_fpu_task_return_to_user(dev->task, err);
	if (!rc)
		rc = vx_kvm_create(dev->machine, &ko, &dev->kvm, err);
	return rc;
}

static int check_options(const struct vx_kvm_dev_options *o, struct vx_error *err)
{
	if ((unsigned)o->design >= VX_KVM_CET_DESIGN_COUNT)
		return vx_error_set(err, -EINVAL, "kvm_ioctl.h", "design %d is not a CET_S design",
				    o->design);
	if (o->flavour >= VX_KVM_FLAVOUR_COUNT || o->flavour < -1)
		return vx_error_set(err, -EINVAL, "kvm_ioctl.h", "flavour %d is not a flavour",
				    o->flavour);
	if (o->ncpus < 1 || o->ncpus > 64)
		return vx_error_set(err, -EINVAL, "kvm_ioctl.h", "ncpus %u is not 1..64", o->ncpus);
	return 0;
}

int vx_kvm_dev_create(const struct vx_kvm_dev_options *options, struct vx_kvm_dev **out,
		      struct vx_error *err)
{
	const struct vx_platform *pf =
	    options->platform ? options->platform : vx_platform_default();
	struct vx_kvm_dev *dev;
	int rc = check_options(options, err);

	if (rc)
		return rc;
	dev = pf->alloc(pf->ctx, sizeof(*dev), _Alignof(struct vx_kvm_dev));
	if (!dev)
		return vx_error_set(err, -ENOMEM, "kvm_ioctl.h", "cannot allocate the context");
	memset(dev, 0, sizeof(*dev));
	dev->pf = pf;
	dev->opts = *options;
	if (!dev->opts.sysfs_module)
		dev->opts.sysfs_module = SYSFS_MODULE;
	pthread_mutex_init(&dev->lock, NULL);
	vx_error_clear(&dev->last);
	rc = load_profile(dev, err);
	if (!rc)
		rc = boot(dev, err);
	if (!rc && dev->opts.guest)
		rc = vx_kvm_dev_load_guest(dev, dev->opts.guest, err);
	if (rc) {
		vx_kvm_dev_destroy(dev);
		return rc;
	}
	*out = dev;
	return 0;
}

void vx_kvm_dev_destroy(struct vx_kvm_dev *dev)
{
	if (!dev)
		return;
	for (unsigned fd = 0; fd < dev->nfds; fd++)
		if (dev->fds[fd].kind != VX_DEV_NONE)
			(void)vx_kvm_close(dev, (int)fd);
	vx_dev_free(dev, dev->fds);
	vx_dev_free(dev, dev->guest);
	vx_kvm_destroy(dev->kvm);
	vx_fpu_machine_destroy(dev->machine);
	vx_fpu_system_destroy(dev->own_sys);
	pthread_mutex_destroy(&dev->lock);
	dev->pf->free(dev->pf->ctx, dev);
}

void *vx_dev_alloc(const struct vx_kvm_dev *dev, size_t size)
{
	void *p = dev->pf->alloc(dev->pf->ctx, size ? size : 1, 16);

	if (p)
		memset(p, 0, size ? size : 1);
	return p;
}

void vx_dev_free(const struct vx_kvm_dev *dev, void *ptr)
{
	if (ptr)
		dev->pf->free(dev->pf->ctx, ptr);
}

struct vx_kvm *vx_kvm_dev_module(const struct vx_kvm_dev *dev)
{
	return dev->kvm;
}

struct vx_fpu_task *vx_kvm_dev_task(const struct vx_kvm_dev *dev)
{
	return dev->task;
}

const char *vx_kvm_dev_profile_name(const struct vx_kvm_dev *dev)
{
	return dev->profile_name;
}

const struct vx_error *vx_kvm_dev_last_error(const struct vx_kvm_dev *dev)
{
	return &dev->last;
}

void vx_kvm_dev_set_run_hook(struct vx_kvm_dev *dev, vx_kvm_run_hook hook, void *ctx)
{
	dev->run_hook = hook;
	dev->run_ctx = ctx;
}

/* ----------------------------------------------------------------------------------------- */
/* Descriptors                                                                                  */

static const char *const kind_names[VX_DEV_KIND_COUNT] = {"", "vxsave-kvm", "vxsave-kvm-vm",
							  "vxsave-kvm-vcpu"};

static int grow_table(struct vx_kvm_dev *dev, int fd)
{
	unsigned n = dev->nfds ? dev->nfds : 64;
	struct vx_dev_fd *t;

	while (n <= (unsigned)fd)
		n *= 2;
	/* A new table (zeroed) with the old entries: the old one stays until this succeeds. */
	t = vx_dev_alloc(dev, n * sizeof(*t));
	if (!t)
		return vx_error_set(&dev->last, -ENOMEM, "kvm_ioctl.h",
				    "no memory for a descriptor table of %u entries", n);
	if (dev->nfds)
		memcpy(t, dev->fds, dev->nfds * sizeof(*t));
	vx_dev_free(dev, dev->fds);
	dev->fds = t;
	dev->nfds = n;
	return 0;
}

int vx_dev_new_fd(struct vx_kvm_dev *dev, enum vx_dev_kind kind, size_t size, int cloexec)
{
	int fd = memfd_create(kind_names[kind], cloexec ? MFD_CLOEXEC : 0);

	if (fd < 0)
		return vx_error_set(&dev->last, -errno, "kvm_ioctl.h",
				    "memfd_create for a descriptor failed");
	if (size && ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return vx_error_set(&dev->last, -ENOMEM, "kvm_ioctl.h",
				    "no memory for the %zu-byte descriptor file", size);
	}
	if ((unsigned)fd >= dev->nfds && grow_table(dev, fd) != 0) {
		close(fd);
		return -ENOMEM;
	}
	dev->fds[fd] = (struct vx_dev_fd){kind, NULL, NULL};
	return fd;
}

struct vx_dev_fd *vx_dev_fd(const struct vx_kvm_dev *dev, int fd)
{
	if (fd < 0 || (unsigned)fd >= dev->nfds || dev->fds[fd].kind == VX_DEV_NONE)
		return NULL;
	return &dev->fds[fd];
}

bool vx_kvm_dev_owns(const struct vx_kvm_dev *dev, int fd)
{
	return dev && vx_dev_fd(dev, fd) != NULL;
}

int vx_kvm_dev_open(struct vx_kvm_dev *dev, int flags)
{
	int fd;

	pthread_mutex_lock(&dev->lock);
	vx_error_clear(&dev->last);
	fd = vx_dev_new_fd(dev, VX_DEV_SYSTEM, 0, flags & O_CLOEXEC);
	pthread_mutex_unlock(&dev->lock);
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

static void vcpu_free(struct vx_kvm_dev *dev, struct vx_dev_vcpu *v)
{
	if (v->run)
		munmap(v->run, VX_KVM_DEV_MMAP_SIZE);
	vx_dev_free(dev, v);
}

/* The last reference gone: kvm_destroy_vm() with its vCPUs. */
void vx_dev_vm_put(struct vx_kvm_dev *dev, struct vx_dev_vm *vm)
{
	if (--vm->refs)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_free(dev, vm->vcpus[i]);
	vx_kvm_vm_destroy(vm->vm);
	vx_dev_free(dev, vm);
}

int vx_kvm_close(struct vx_kvm_dev *dev, int fd)
{
	struct vx_dev_fd *f;

	pthread_mutex_lock(&dev->lock);
	f = vx_dev_fd(dev, fd);
	if (f) {
		struct vx_dev_vm *vm = f->vm;

		*f = (struct vx_dev_fd){VX_DEV_NONE, NULL, NULL};
		if (vm)
			vx_dev_vm_put(dev, vm);
		close(fd);
	}
	pthread_mutex_unlock(&dev->lock);
	if (!f) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

int vx_kvm_dev_mmap_check(const struct vx_kvm_dev *dev, int fd, size_t length, long long offset)
{
	const struct vx_dev_fd *f = vx_dev_fd(dev, fd);

	/* Only a vCPU descriptor maps, from offset 0, at most the mmap size (kvm_vcpu_mmap). */
	if (!f || f->kind != VX_DEV_VCPU)
		return -ENODEV;
	if (offset != 0 || length > VX_KVM_DEV_MMAP_SIZE)
		return -EINVAL;
	return 0;
}

struct vx_kvm_vcpu *vx_kvm_dev_vcpu(const struct vx_kvm_dev *dev, int fd)
{
	const struct vx_dev_fd *f = vx_dev_fd(dev, fd);

	return f && f->kind == VX_DEV_VCPU ? f->vcpu->vcpu : NULL;
}

/* ----------------------------------------------------------------------------------------- */
/* arch_prctl and the model backend                                                             */

static bool is_get_option(int option)
{
	return option == VX_ARCH_GET_XCOMP_SUPP || option == VX_ARCH_GET_XCOMP_PERM ||
	       option == VX_ARCH_GET_XCOMP_GUEST_PERM;
}

int vx_kvm_dev_arch_prctl(struct vx_kvm_dev *dev, int option, unsigned long arg2)
{
	uint64_t value = 0;
	int rc;

	pthread_mutex_lock(&dev->lock);
	vx_error_clear(&dev->last);
	/* The GET options store through arg2: an unusable pointer is -EFAULT (§4). */
	rc = vx_fpu_arch_prctl(dev->task, (uint64_t)(unsigned)option, arg2,
			       is_get_option(option) && arg2 ? &value : NULL, &dev->last);
	if (!rc && is_get_option(option))
		rc = vx_dev_copy_out(dev, (void *)arg2, &value, sizeof(value));
	pthread_mutex_unlock(&dev->lock);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

static int model_open(void *ctx)
{
	return vx_kvm_dev_open(ctx, O_RDWR | O_CLOEXEC);
}

static int model_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	return vx_kvm_ioctl(ctx, fd, request, arg);
}

static int model_close(void *ctx, int fd)
{
	return vx_kvm_close(ctx, fd);
}

void vx_kvm_backend_model(struct vx_kvm_backend *b, struct vx_kvm_dev *dev)
{
	*b = (struct vx_kvm_backend){"model", dev, model_open, model_ioctl, model_close};
}
