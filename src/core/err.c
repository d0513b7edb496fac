#include "core/err.h"

const char *vg_strerror(int err)
{
    switch ((enum vg_err)err) {
    case VG_OK: return "success";
    case VG_EINVAL: return "invalid argument";
    case VG_ERANGE: return "value out of the allowed range";
    case VG_ENOSPC: return "no space left in a fixed-size table or buffer";
    case VG_EFORMAT: return "malformed input";
    case VG_AGAIN: return "incomplete input";
    case VG_ENOTFOUND: return "not found";
    case VG_ESTATE: return "not allowed in the current state";
    case VG_EDUPLICATE: return "duplicate";
    case VG_ESTALE: return "older than the current state";
    }
    return "unknown error";
}
