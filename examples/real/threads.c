/* A small program for the strace importer's fixtures: a thread that maps and unmaps memory while
 * the main thread waits for it (clone3 with CLONE_THREAD, futex, the thread's stack mapping). */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

static void *work(void *arg) {
  (void)arg;
  char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) {
    memset(p, 1, 65536);
    munmap(p, 65536);
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, work, NULL) != 0) return 1;
  pthread_join(t, NULL);
  return 0;
}
