/* vigie user: accounts through vigied's API (administrator token). */
#ifndef VG_TOOLS_VIGIE_USER_H
#define VG_TOOLS_VIGIE_USER_H

int vigie_user_main(int argc, char **argv);

#endif
