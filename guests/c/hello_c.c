/* The smallest C guest: glibc startup, printf, exit 0. */
#include <stdio.h>

int main(void)
{
	printf("Hello from a static C guest!\n");
	return 0;
}
