/* otakit-serve: the firmware server behind `otakit serve` (tools/serve_exec.c runs it
 * with the same arguments; argv[0] is the verb "serve"). */
#include "cmd.h"

int main(int argc, char **argv)
{
    return cmd_serve(argc, argv);
}
