/* A small program for the strace importer's fixtures: maps, touches, protects and unmaps memory,
 * forks a child that execs /bin/true, and waits for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  size_t len = 1 << 20;
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  memset(p, 1, len);
  mprotect(p, 4096, PROT_READ);
  munmap(p + len / 2, len / 2);
  void *huge = mmap(NULL, (size_t)1 << 46, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  (void)huge; /* fails with ENOMEM on most hosts: an error return in the log */
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  munmap(p, len / 2);
  return WEXITSTATUS(status);
}
