/* otakit-fleet: the fleet server and its client behind `otakit fleet` (tools/serve_exec.c
 * runs it with the same arguments; argv[0] is the verb "fleet"). */
#include "cmd.h"

int main(int argc, char **argv)
{
    return cmd_fleet(argc, argv);
}
