/* Error codes shared by every layer.
 *
 * Functions return 0 on success or a negative enum vg_err; results travel
 * through out-parameters. Bad input is always an error code, never an abort:
 * asserts are kept for invariants whose failure means a bug in Vigie. */
#ifndef VG_CORE_ERR_H
#define VG_CORE_ERR_H

enum vg_err {
    VG_OK = 0,
    VG_EINVAL = -1,  /* an argument is out of its domain (NaN, range, enum) */
    VG_ERANGE = -2,  /* a value is valid in type but outside an allowed range */
    VG_ENOSPC = -3,  /* a caller-provided buffer or fixed table is full */
    VG_EFORMAT = -4, /* input bytes or text do not follow their format */
    VG_AGAIN = -5,   /* partial input: call again with more bytes */
    VG_ENOTFOUND = -6,
    VG_ESTATE = -7, /* the operation is not allowed in the current state */
    VG_EDUPLICATE = -8,
    VG_ESTALE = -9, /* the input is older than what it would replace */
};

/* A short English description of an error code; never NULL. */
const char *vg_strerror(int err);

#endif
