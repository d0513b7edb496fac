/* Roles and permissions (roles.h). One table: the matrix the API and its
 * documentation follow. */
#include "core/roles.h"

#include <string.h>

static const char *const names[VG_USER__COUNT] = {
    [VG_USER_NONE] = "none",
    [VG_USER_OPERATOR] = "operator",
    [VG_USER_SUPERVISOR] = "supervisor",
    [VG_USER_INSTALLER] = "installer",
    [VG_USER_MAGISTRATE] = "magistrate",
    [VG_USER_STATISTICIAN] = "statistician",
    [VG_USER_ADMINISTRATOR] = "administrator",
};

/* may[role][permission] */
static const bool may[VG_USER__COUNT][VG_PERM__COUNT] = {
    [VG_USER_OPERATOR] = {[VG_PERM_MEASURE_READ] = true,
                          [VG_PERM_PERSON_READ] = true,
                          [VG_PERM_INCIDENT_HANDLE] = true,
                          [VG_PERM_INCIDENT_REPORT] = true,
                          [VG_PERM_FLOOR_READ] = true},
    [VG_USER_SUPERVISOR] = {[VG_PERM_MEASURE_READ] = true,
                            [VG_PERM_STATISTICS] = true,
                            [VG_PERM_PERSON_READ] = true,
                            [VG_PERM_INCIDENT_HANDLE] = true,
                            [VG_PERM_INCIDENT_REPORT] = true,
                            [VG_PERM_INCIDENT_REASSIGN] = true,
                            [VG_PERM_FLOOR_READ] = true},
    [VG_USER_INSTALLER] = {[VG_PERM_MEASURE_READ] = true,
                           [VG_PERM_MEASURE_CREATE] = true,
                           [VG_PERM_MEASURE_CHANGE] = true,
                           [VG_PERM_PERSON_READ] = true,
                           [VG_PERM_PERSON_WRITE] = true,
                           [VG_PERM_UNIT_ISSUE] = true},
    [VG_USER_MAGISTRATE] = {[VG_PERM_MEASURE_READ] = true,
                            [VG_PERM_MEASURE_CHANGE] = true,
                            [VG_PERM_STATISTICS] = true,
                            [VG_PERM_PERSON_READ] = true,
                            [VG_PERM_INCIDENT_REPORT] = true},
    [VG_USER_STATISTICIAN] = {[VG_PERM_STATISTICS] = true},
    /* provisioning is the platform's: measures declared by tools and scripts */
    [VG_USER_ADMINISTRATOR] = {[VG_PERM_MEASURE_READ] = true,
                               [VG_PERM_MEASURE_CREATE] = true,
                               [VG_PERM_MEASURE_CHANGE] = true,
                               [VG_PERM_USER_ADMIN] = true,
                               [VG_PERM_PERSON_READ] = true,
                               [VG_PERM_PERSON_WRITE] = true,
                               [VG_PERM_UNIT_ISSUE] = true,
                               [VG_PERM_MEASURE_TRANSFER] = true,
                               /* the token's tools (vigie stats): aggregates only */
                               [VG_PERM_STATISTICS] = true},
};

const char *vg_role_name(unsigned role)
{
    return role < VG_USER__COUNT ? names[role] : "none";
}

enum vg_user_role vg_role_parse(const char *name)
{
    if (!name)
        return VG_USER_NONE;
    for (unsigned r = VG_USER_OPERATOR; r < VG_USER__COUNT; r++)
        if (strcmp(name, names[r]) == 0)
            return (enum vg_user_role)r;
    return VG_USER_NONE;
}

bool vg_role_may(unsigned role, enum vg_permission p)
{
    return role < VG_USER__COUNT && (unsigned)p < VG_PERM__COUNT && may[role][p];
}

bool vg_role_court_scoped(unsigned role)
{
    return role == VG_USER_MAGISTRATE;
}
