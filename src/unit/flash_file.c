/* The medium as a file (a real unit): pread/pwrite, fdatasync, an exclusive
 * flock for as long as it is open. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "unit/flash.h"

struct file_flash {
    int fd;
    uint64_t size;
};

static int file_in_range(const struct file_flash *ff, uint64_t off, size_t len)
{
    return off <= ff->size && (uint64_t)len <= ff->size - off;
}

static int file_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    const struct file_flash *ff = ctx;
    if (!file_in_range(ff, off, len))
        return VG_ERANGE;
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(ff->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return VG_ESTATE; /* an I/O error, or the file shrank under us */
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return VG_OK;
}

static int file_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    const struct file_flash *ff = ctx;
    if (!file_in_range(ff, off, len))
        return VG_ERANGE;
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(ff->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return VG_ESTATE;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return VG_OK;
}

static int file_sync(void *ctx)
{
    const struct file_flash *ff = ctx;
    while (fdatasync(ff->fd) != 0) {
        if (errno != EINTR)
            return VG_ESTATE;
    }
    return VG_OK;
}

static void file_close(void *ctx)
{
    struct file_flash *ff = ctx;
    close(ff->fd); /* releases the lock */
    free(ff);
}

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The directory holding path, so that a new entry in it can be made durable. */
static int sync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir)
            return -1;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    close(dfd);
    return rc;
}

/* A new file of `size` zero bytes with its blocks reserved, put in place
 * only once complete: built under a private temporary name, then linked to
 * `path` (link fails if somebody created `path` meanwhile, and then theirs
 * is kept). VG_OK also when another process won the race. */
static int create_file(const char *path, uint64_t size, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.new.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        set_err(err, errlen, "%s: path too long", path);
        return VG_EINVAL;
    }
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return VG_ESTATE;
    }
    int rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc != 0) {
        close(fd);
        unlink(tmp);
        set_err(err, errlen, "%s: cannot reserve the ring's space: %s", tmp, strerror(rc));
        return VG_ESTATE;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        set_err(err, errlen, "%s: fsync: %s", tmp, strerror(e));
        return VG_ESTATE;
    }
    close(fd);
    if (link(tmp, path) != 0) {
        int e = errno;
        if (e == EEXIST) {
            unlink(tmp); /* another opener created it first: use theirs */
            return VG_OK;
        }
        /* File systems without hard links (FAT on an SD card): a rename,
         * which is atomic but would replace a file created meanwhile. */
        if (rename(tmp, path) != 0) {
            e = errno;
            unlink(tmp);
            set_err(err, errlen, "%s: cannot put the new file in place: %s", path, strerror(e));
            return VG_ESTATE;
        }
    } else {
        unlink(tmp);
    }
    if (sync_parent_dir(path) != 0) {
        set_err(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
        return VG_ESTATE;
    }
    return VG_OK;
}

int vg_flash_open_file(struct vg_flash *f, const char *path, uint64_t size, char *err,
                       size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (f == NULL || path == NULL || path[0] == '\0' || size == 0 || size > (uint64_t)INT64_MAX) {
        set_err(err, errlen, "%s: invalid arguments (a path and a size above 0 are needed)",
                path != NULL ? path : "(null)");
        return VG_EINVAL;
    }
    memset(f, 0, sizeof *f);

    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        int rc = create_file(path, size, err, errlen);
        if (rc != VG_OK)
            return rc;
        fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return VG_ESTATE;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            set_err(err, errlen, "%s: in use by another opener (one unit per ring file)", path);
            return VG_EDUPLICATE;
        }
        set_err(err, errlen, "%s: cannot lock: %s", path, strerror(e));
        return VG_ESTATE;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return VG_ESTATE;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, "%s: not a regular file", path);
        close(fd);
        return VG_EFORMAT;
    }
    if ((uint64_t)st.st_size != size) {
        set_err(err, errlen,
                "%s: the file is %" PRIu64 " bytes, the ring needs %" PRIu64
                " (another file, or a ring of another size): refused, not reformatted",
                path, (uint64_t)st.st_size, size);
        close(fd);
        return VG_EFORMAT;
    }
    struct file_flash *ff = malloc(sizeof *ff);
    if (ff == NULL) {
        set_err(err, errlen, "%s: out of memory", path);
        close(fd);
        return VG_ENOSPC;
    }
    ff->fd = fd;
    ff->size = size;
    f->ctx = ff;
    f->size = size;
    f->read = file_read;
    f->write = file_write;
    f->sync = file_sync;
    f->close = file_close;
    return VG_OK;
}
