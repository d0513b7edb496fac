/* The mobile unit's storage medium: a fixed-size byte array standing for its
 * flash memory, behind a small table of functions (a file on a real unit,
 * plain memory in the simulator that runs thousands of units).
 *
 * The ring (unit/ring.h) is the only user; it relies on exactly this:
 *   - read/write address [off, off + len) inside [0, size); outside it they
 *     return VG_ERANGE and touch nothing;
 *   - after sync returns VG_OK, every write that returned before it survives
 *     a power loss (for the file: fdatasync);
 *   - a write that returned survives a crash of the process even without a
 *     sync (the file's page cache; memory survives nothing but is never
 *     reopened after a crash).
 * An I/O failure of the medium is VG_ESTATE (err.h has no I/O code). */
#ifndef VG_UNIT_FLASH_H
#define VG_UNIT_FLASH_H

#include <stddef.h>
#include <stdint.h>

struct vg_flash {
    void *ctx;
    uint64_t size;                                               /* bytes */
    int (*read)(void *ctx, uint64_t off, void *buf, size_t len); /* VG_OK or an error */
    int (*write)(void *ctx, uint64_t off, const void *buf, size_t len);
    int (*sync)(void *ctx); /* previous writes durable */
    void (*close)(void *ctx);
};

/* A file of exactly `size` bytes. A missing file is created with its blocks
 * reserved (so that a full file system cannot refuse a write in the middle of
 * an outage) and zero-filled, under a temporary name renamed into place, so
 * that a crash never leaves a short file behind. An existing file keeps its
 * content; a file of any other size (an empty one included) is refused with
 * a message naming both sizes: it is somebody else's file, or a ring of
 * another geometry, and formatting it could reuse sequence numbers.
 * The file is locked (flock) for as long as it is open: a second opener,
 * in this process or another, is refused. pread/pwrite, fdatasync for sync,
 * O_CLOEXEC. VG_EINVAL (bad arguments), VG_ESTATE (system error), VG_EFORMAT
 * (wrong size, not a regular file), VG_EDUPLICATE (locked by another
 * opener); err receives a message either way (when errlen > 0). */
int vg_flash_open_file(struct vg_flash *f, const char *path, uint64_t size, char *err,
                       size_t errlen);

/* Memory (zeroed), for the simulator that runs thousands of units: survives
 * nothing. VG_EINVAL for size 0 or beyond the address space, VG_ENOSPC when
 * the allocation fails. */
int vg_flash_open_mem(struct vg_flash *f, uint64_t size);

/* Closes the medium and clears *f; a cleared (or never opened) *f is fine. */
void vg_flash_close(struct vg_flash *f);

#endif
