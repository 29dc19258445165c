/* example_configure_stdin_stdout: on the virtual device the console is the host's terminal
 * (or the monitor's pipe); unbuffered streams give the behaviour of ESP-IDF's blocking UART
 * driver: a line typed in the monitor reaches fgets() at once. */
#include <stdio.h>

#include "protocol_examples_common.h"

esp_err_t example_configure_stdin_stdout(void)
{
    setvbuf(stdin, NULL, _IONBF, 0);
    setvbuf(stdout, NULL, _IONBF, 0);
    return ESP_OK;
}
