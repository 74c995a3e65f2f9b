#include "video/video.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

extern char** environ;

namespace ck::video {

namespace {

// One child with stdout on a pipe (stdin = /dev/null, stderr inherited), as subprocess_create with
// search_user_path | inherit_environment. The child is killed and reaped on destruction.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& what) {
    int fds[2];
    if (pipe(fds) != 0) throw Error(what + ": pipe: " + std::strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      pid_ = 0;
      throw Error(what + ": cannot run " + argv[0] + " (" + std::strerror(rc) +
                  "; install the Debian ffmpeg package: make deps)");
    }
    out_ = fdopen(fds[0], "rb");
  }
  ~Child() { finish(true); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  FILE* out() { return out_; }
  // Closes the pipe and reaps the child (killed first when `kill`); returns its exit status (-1: signalled).
  int finish(bool kill_it) {
    if (out_) {
      std::fclose(out_);
      out_ = nullptr;
    }
    int status = 0;
    if (pid_ > 0) {
      if (kill_it) kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return 0;
  }

 private:
  pid_t pid_ = 0;
  FILE* out_ = nullptr;
};

// mtmd_helper_video::parse_rational
float parse_rational(const char* s) {
  int num = 0, den = 1;
  if (std::sscanf(s, "%d/%d", &num, &den) == 2 && den > 0) return float(num) / float(den);
  float val;
  if (std::sscanf(s, "%f", &val) == 1) return val;
  return 0.0f;
}

}  // namespace

bool probe(const std::string& path, Video* v) {
  v->ffprobe_command = {"ffprobe", "-v", "quiet", "-show_entries", "stream=width,height,r_frame_rate,nb_frames,duration",
                        "-select_streams", "v:0", "-of", "default=noprint_wrappers=1", path};
  Child c(v->ffprobe_command, path);
  unsigned width = 0, height = 0;
  float orig_fps = 0.0f, duration = -1.0f;
  int n_frames_orig = -1;
  char line[256];
  while (std::fgets(line, sizeof(line), c.out())) {
    char* eq = std::strchr(line, '=');
    if (!eq) continue;
    *eq = '\0';
    const char* key = line;
    const char* val = eq + 1;
    if (char* nl = std::strchr(eq + 1, '\n')) *nl = '\0';
    if (std::strcmp(key, "width") == 0) width = unsigned(std::atoi(val));
    else if (std::strcmp(key, "height") == 0) height = unsigned(std::atoi(val));
    else if (std::strcmp(key, "r_frame_rate") == 0) orig_fps = parse_rational(val);
    else if (std::strcmp(key, "nb_frames") == 0 && std::strcmp(val, "N/A") != 0) n_frames_orig = std::atoi(val);
    else if (std::strcmp(key, "duration") == 0 && std::strcmp(val, "N/A") != 0) duration = float(std::atof(val));
  }
  c.finish(false);
  if (width == 0 || height == 0 || orig_fps <= 0.0f) return false;
  if (duration < 0.0f && n_frames_orig > 0) duration = float(n_frames_orig) / orig_fps;
  v->width = int(width);
  v->height = int(height);
  v->source_fps = orig_fps;
  v->duration = duration;
  return true;
}

bool timestamp_after(int k, float fps, int interval_ms, float* next_ms, std::string* text) {
  if (interval_ms <= 0) return false;
  // read_next: current_frame was incremented by read_next_frame(); elapsed uses current_frame - 1 = k
  const float elapsed_ms = float(k) / fps * 1000.0f;
  if (!(elapsed_ms >= *next_ms)) return false;
  char buf[32];
  const float elapsed_s = elapsed_ms / 1000.0f;
  const int minutes = int(elapsed_s / 60);
  const float seconds = elapsed_s - float(minutes) * 60.0f;
  std::snprintf(buf, sizeof(buf), "[%dm%.2fs]", minutes, double(seconds));
  *text = buf;
  *next_ms += float(interval_ms);
  return true;
}

Video read_video(const std::string& path, const Options& opt) {
  Video v;
  if (access(path.c_str(), R_OK) != 0) throw Error(path + ": " + std::strerror(errno));
  if (!probe(path, &v)) throw Error(path + ": not a video ffprobe can read (no video stream with a size and a frame rate)");
  if (int64_t(v.width) * v.height > int64_t(0x7fffffff) / 3)
    throw Error(path + ": " + std::to_string(v.width) + "x" + std::to_string(v.height) + " frames are too large");
  v.fps = opt.fps > 0.0f ? opt.fps : v.source_fps;
  v.ffmpeg_command = {"ffmpeg", "-nostdin", "-i", path};
  if (v.fps > 0.0f) {
    char fps_buf[64];
    std::snprintf(fps_buf, sizeof(fps_buf), "fps=%.6f", double(v.fps));
    v.ffmpeg_command.push_back("-vf");
    v.ffmpeg_command.push_back(fps_buf);
  }
  for (const char* a : {"-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1", "-loglevel", "error"})
    v.ffmpeg_command.push_back(a);
  Child c(v.ffmpeg_command, path);
  const size_t frame_size = size_t(v.width) * size_t(v.height) * 3;
  for (;;) {
    image::RgbImage f;
    f.width = v.width;
    f.height = v.height;
    f.rgb.resize(frame_size);
    size_t got = 0;
    while (got < frame_size) {
      const size_t n = std::fread(f.rgb.data() + got, 1, frame_size - got, c.out());
      if (n == 0) break;
      got += n;
    }
    if (got < frame_size) break;  // EOF (a partial frame ends the stream, as read_next_frame)
    v.frames.push_back(std::move(f));
  }
  const int status = c.finish(false);
  if (v.frames.empty())
    throw Error(path + ": ffmpeg produced no frames" + (status != 0 ? " (exit " + std::to_string(status) + ")" : std::string()));
  v.parts = make_parts(int(v.frames.size()), v.fps, opt);
  return v;
}

std::vector<Part> make_parts(int n_frames, float fps, const Options& opt) {
  // read_next's sequence: prompt_start text, then each frame followed by its pending timestamp text
  std::vector<Part> parts;
  if (!opt.prompt_start.empty()) parts.push_back({false, -1, opt.prompt_start});
  float next_ms = 0.0f;
  for (int k = 0; k < n_frames; ++k) {
    parts.push_back({true, k, ""});
    std::string ts;
    if (timestamp_after(k, fps, opt.timestamp_interval_ms, &next_ms, &ts)) parts.push_back({false, -1, ts});
  }
  return parts;
}

}  // namespace ck::video
