/* vigie login / logout: a user's session with vigied's API, kept in a file
 * (mode 0600) for the commands a user runs as himself (vigie incident,
 * vigie floor). */
#ifndef VG_TOOLS_VIGIE_SESSION_H
#define VG_TOOLS_VIGIE_SESSION_H

#include <stddef.h>

struct vigie_session {
    char http[128];   /* the API it was opened on (HOST:PORT) */
    char name[72];    /* who */
    char role[32];    /* his role */
    char cookie[256]; /* "vigie_session=..." */
    char csrf[80];    /* the session's CSRF token */
};

/* The session file: `given`, else $VIGIE_SESSION, else $HOME/.vigie-session. */
void vigie_session_path(const char *given, char *out, size_t cap);

/* Read a session file: 0, or 1 after a message naming `where` (none: log
 * in first). */
int vigie_session_load(const char *path, struct vigie_session *s, const char *where);

int vigie_login_main(int argc, char **argv);
int vigie_logout_main(int argc, char **argv);

#endif
