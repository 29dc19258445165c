#include "cmd.h"

/* Not built yet: see the README's status section. */
int cmd_otadata(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tool_error("'otadata' is not built yet");
    return EXIT_USAGE;
}
