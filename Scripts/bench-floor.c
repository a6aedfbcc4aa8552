// The floor of a local step on this machine: what `runbook exec` must do for each trivial
// local step, done by the plainest C program, with nothing else (no parsing, no report,
// no output routing). `Scripts/bench-exec` builds and runs it; not a test.
//
// Per step, as the tool does it:
//   - the step's script written to a private file;
//   - a start record appended to the journal (not synced);
//   - the step's number handed to a runner (one /bin/sh in a session and process group of
//     its own), which appends a started line to its status file, runs the script in a
//     subshell and answers with its status;
//   - the step's log file written;
//   - the step record appended to the journal, and synced to disk before the next step
//     starts (DESIGN: "flushed and fsynced after each step on each host").
//
// Usage: bench-floor DIR STEPS -> two lines: ms per step with the sync, and without it.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void put(int fd, const char *text, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, text, length);
    if (n <= 0) { perror("write"); exit(1); }
    text += n;
    length -= (size_t)n;
  }
}

static double run(const char *dir, int steps, int sync) {
  static const char *runner =
      "while IFS= read -r w; do\n"
      "  echo \"$w started $$ $PPID\" >&4\n"
      "  (unset w; set --; exec </dev/null >&8 2>&5 4>&- 5>&- 8>&-; . \"$0\")\n"
      "  echo \"$?\"\n"
      "done";
  char script[4096], status[4096], journal[4096], log[4096], text[1024], record[1024];
  snprintf(script, sizeof script, "%s/step.sh", dir);
  snprintf(status, sizeof status, "%s/status", dir);
  snprintf(journal, sizeof journal, "%s/journal.jsonl", dir);
  int in[2], out[2], output[2];
  if (pipe(in) || pipe(out) || pipe(output)) { perror("pipe"); exit(1); }
  int statusFile = open(status, O_WRONLY | O_CREAT | O_APPEND, 0600);
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(statusFile, 4);
    dup2(2, 5);
    dup2(output[1], 8);
    for (int fd = 3; fd < 64; fd++)
      if (fd != 4 && fd != 5 && fd != 8) close(fd);
    execl("/bin/sh", "sh", "-c", runner, script, (char *)0);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(output[1]);
  close(statusFile);
  int journalFile = open(journal, O_WRONLY | O_CREAT | O_APPEND, 0600);
  // A journal record is about 900 bytes for a trivial step.
  memset(record, 'x', sizeof record);
  record[899] = '\n';
  double start = 0;
  const int warmup = 20;
  for (int i = 0; i < steps + warmup; i++) {
    if (i == warmup) start = now();
    int file = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    put(file, "true\n", 5);
    close(file);
    put(journalFile, record, 900);
    int n = snprintf(text, sizeof text, "%d\n", i);
    put(in[1], text, (size_t)n);
    if (read(out[0], text, sizeof text) <= 0) { fprintf(stderr, "runner gone\n"); exit(1); }
    snprintf(log, sizeof log, "%s/step-%d.log", dir, i);
    file = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    close(file);
    put(journalFile, record, 900);
    if (sync) fdatasync(journalFile);
  }
  double perStep = (now() - start) * 1000 / steps;
  close(in[1]);
  waitpid(pid, NULL, 0);
  close(out[0]);
  close(output[0]);
  close(journalFile);
  return perStep;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench-floor DIR STEPS\n");
    return 2;
  }
  int steps = atoi(argv[2]);
  printf("%.3f\n", run(argv[1], steps, 1));
  printf("%.3f\n", run(argv[1], steps, 0));
  return 0;
}
