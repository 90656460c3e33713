#include <stdio.h>

int main(void) {
        printf("Hello from an image built by mkosi (Swift)!\n");
        return 0;
}
