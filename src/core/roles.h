/* Who may do what: the users' roles and the permission matrix the API
 * enforces (docs/API.md has it as a table; tests/integ/test_users.py
 * checks every cell through the API).
 *
 *   operator       handles alarms; reads every measure's file
 *   supervisor     runs a shift; reads every measure's file
 *   installer      the probation officer: declares measures, installs units
 *                  (issues and revokes their certificates), records the
 *                  decisions that change them
 *   magistrate     reads and changes only the measures of his own court, and
 *                  reads their persons
 *   statistician   aggregates only: no measure's file, no person
 *   administrator  accounts and the platform (provisioning included)
 *
 * Pure: names, parsing and the matrix. */
#ifndef VG_CORE_ROLES_H
#define VG_CORE_ROLES_H

#include <stdbool.h>

enum vg_user_role {
    VG_USER_NONE = 0,
    VG_USER_OPERATOR = 1,
    VG_USER_SUPERVISOR = 2,
    VG_USER_INSTALLER = 3,
    VG_USER_MAGISTRATE = 4,
    VG_USER_STATISTICIAN = 5,
    VG_USER_ADMINISTRATOR = 6,
    VG_USER__COUNT
};

enum vg_permission {
    VG_PERM_MEASURE_READ,      /* a measure's file: names, units, persons (court-scoped for
                                  magistrates: see vg_role_court_scoped) */
    VG_PERM_MEASURE_CREATE,    /* declare a measure and its units */
    VG_PERM_MEASURE_CHANGE,    /* a new version (revision, renewal), suspend, resume, lift, revoke
                                  (court-scoped for magistrates) */
    VG_PERM_USER_ADMIN,        /* list, add, change, disable accounts */
    VG_PERM_STATISTICS,        /* aggregated, anonymised figures (core/stats.h; court-scoped
                                  for magistrates) */
    VG_PERM_PERSON_READ,       /* a person's file: identity, addresses, household */
    VG_PERM_PERSON_WRITE,      /* create a person, change it (a new version) */
    VG_PERM_UNIT_ISSUE,        /* issue a unit's certificate and key, revoke it */
    VG_PERM_MEASURE_TRANSFER,  /* export a measure's whole file (and import it, offline) */
    VG_PERM_INCIDENT_HANDLE,   /* the queue; take an incident, record its steps, close it */
    VG_PERM_INCIDENT_REASSIGN, /* give an incident another operator has to someone */
    VG_PERM_INCIDENT_REPORT,   /* an incident's report and steps, whatever its age (court-scoped
                                  for magistrates) */
    VG_PERM_FLOOR_READ,        /* the floor view: the queue's figures, response times, escalated
                                  incidents; every operator's load to those who may reassign,
                                  his own to an operator */
    VG_PERM__COUNT
};

/* "operator", ...; "none" for VG_USER_NONE or an unknown value. */
const char *vg_role_name(unsigned role);

/* The role named `name`, or VG_USER_NONE. */
enum vg_user_role vg_role_parse(const char *name);

bool vg_role_may(unsigned role, enum vg_permission p);

/* A magistrate reads only the measures of his own court. */
bool vg_role_court_scoped(unsigned role);

#endif
