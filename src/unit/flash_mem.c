/* The medium in memory (the simulator's units), and vg_flash_close for every
 * medium. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "unit/flash.h"

struct mem_flash {
    uint64_t size;
    uint8_t *bytes;
};

/* Both bounds checked without overflow: off + len may not wrap. */
static int mem_in_range(const struct mem_flash *m, uint64_t off, size_t len)
{
    return off <= m->size && (uint64_t)len <= m->size - off;
}

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    const struct mem_flash *m = ctx;
    if (!mem_in_range(m, off, len))
        return VG_ERANGE;
    if (len > 0)
        memcpy(buf, m->bytes + off, len);
    return VG_OK;
}

static int mem_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    struct mem_flash *m = ctx;
    if (!mem_in_range(m, off, len))
        return VG_ERANGE;
    if (len > 0)
        memcpy(m->bytes + off, buf, len);
    return VG_OK;
}

static int mem_sync(void *ctx)
{
    (void)ctx; /* memory is as durable as it will ever be */
    return VG_OK;
}

static void mem_close(void *ctx)
{
    struct mem_flash *m = ctx;
    free(m->bytes);
    free(m);
}

int vg_flash_open_mem(struct vg_flash *f, uint64_t size)
{
    if (f == NULL)
        return VG_EINVAL;
    memset(f, 0, sizeof *f);
    if (size == 0 || size > (uint64_t)SIZE_MAX)
        return VG_EINVAL;
    struct mem_flash *m = malloc(sizeof *m);
    if (m == NULL)
        return VG_ENOSPC;
    m->size = size;
    m->bytes = calloc((size_t)size, 1);
    if (m->bytes == NULL) {
        free(m);
        return VG_ENOSPC;
    }
    f->ctx = m;
    f->size = size;
    f->read = mem_read;
    f->write = mem_write;
    f->sync = mem_sync;
    f->close = mem_close;
    return VG_OK;
}

void vg_flash_close(struct vg_flash *f)
{
    if (f == NULL)
        return;
    if (f->close != NULL && f->ctx != NULL)
        f->close(f->ctx);
    memset(f, 0, sizeof *f);
}
