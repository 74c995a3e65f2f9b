// Oracle-only POSIX stand-in for the part of sheredom/subprocess.h (https://github.com/sheredom/subprocess.h,
// vendored by upstream llama.cpp in vendor/sheredom/) that b10256's tools/mtmd/mtmd-helper.cpp uses under
// MTMD_VIDEO: spawn ffprobe/ffmpeg with stdin and stdout pipes, read stdout, kill, reap. The npm packages the
// oracle is assembled from do not ship that header and Debian does not package it; process spawning has no
// bearing on the numbers (the frames arrive as ffmpeg's rgb24 bytes either way). stderr is inherited.
#pragma once
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char ** environ;

enum subprocess_option_e {
    subprocess_option_combined_stdout_stderr = 0x1,
    subprocess_option_inherit_environment = 0x2,
    subprocess_option_enable_async = 0x4,
    subprocess_option_no_window = 0x8,
    subprocess_option_search_user_path = 0x10
};

struct subprocess_s {
    FILE * stdin_file;
    FILE * stdout_file;
    FILE * stderr_file;
    pid_t child;
    int return_status;
    int alive;
};

static inline int subprocess_create(const char * const command_line[], int options, struct subprocess_s * const out) {
    int in_pipe[2], out_pipe[2];
    out->stdin_file = out->stdout_file = out->stderr_file = nullptr;
    out->child = 0;
    out->return_status = 0;
    out->alive = 0;
    if (pipe(in_pipe) != 0) return -1;
    if (pipe(out_pipe) != 0) { close(in_pipe[0]); close(in_pipe[1]); return -1; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, in_pipe[1]);
    posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
    char * const * env = (options & subprocess_option_inherit_environment) ? environ : nullptr;
    static char * empty_env[] = {nullptr};
    const int rc = (options & subprocess_option_search_user_path)
        ? posix_spawnp(&out->child, command_line[0], &fa, nullptr, const_cast<char * const *>(command_line), env ? env : empty_env)
        : posix_spawn(&out->child, command_line[0], &fa, nullptr, const_cast<char * const *>(command_line), env ? env : empty_env);
    posix_spawn_file_actions_destroy(&fa);
    close(in_pipe[0]);
    close(out_pipe[1]);
    if (rc != 0) { close(in_pipe[1]); close(out_pipe[0]); return -1; }
    out->stdin_file = fdopen(in_pipe[1], "wb");
    out->stdout_file = fdopen(out_pipe[0], "rb");
    out->alive = 1;
    return 0;
}

static inline FILE * subprocess_stdin(const struct subprocess_s * const p) { return p->stdin_file; }
static inline FILE * subprocess_stdout(const struct subprocess_s * const p) { return p->stdout_file; }
static inline FILE * subprocess_stderr(const struct subprocess_s * const p) { return p->stderr_file; }

static inline int subprocess_terminate(struct subprocess_s * const p) {
    return p->child > 0 ? kill(p->child, SIGKILL) : -1;
}

static inline int subprocess_join(struct subprocess_s * const p, int * const out_return_code) {
    if (p->stdin_file) { fclose(p->stdin_file); p->stdin_file = nullptr; }
    int status = 0;
    if (p->child > 0 && waitpid(p->child, &status, 0) == p->child) {
        p->return_status = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        p->child = 0;
    }
    if (out_return_code) *out_return_code = p->return_status;
    return 0;
}

static inline int subprocess_destroy(struct subprocess_s * const p) {
    if (p->stdin_file) { fclose(p->stdin_file); p->stdin_file = nullptr; }
    if (p->stdout_file) { fclose(p->stdout_file); p->stdout_file = nullptr; }
    if (p->child > 0) { int st; waitpid(p->child, &st, 0); p->child = 0; }
    p->alive = 0;
    return 0;
}
