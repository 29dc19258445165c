#include "cmd.h"

/* Not built yet: see the README's status section. */
int cmd_flash(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tool_error("'flash' is not built yet");
    return EXIT_USAGE;
}
