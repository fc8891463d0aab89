// pgbr-bench-run: runs one command and measures it the same way whichever tool it is, for
// scripts/bench. Wall time of the command; CPU time, I/O bytes and the peak of the summed
// resident set of its whole process tree; and the same for already running process trees
// named with --watch (the repository servers), over the command's lifetime.
//
//   pgbr-bench-run --json FILE [--interval-ms 50] [--orphan-wait S] [--watch NAME=PID]... [--port N] -- CMD...
//
// How each figure is obtained (docs/benchmarks.md repeats it):
// - The tool is a child subreaper, so every descendant of the command, even one that
//   double-forks (pgBackRest's asynchronous archiver), is reaped here. After the command and
//   every orphan it left have exited, getrusage(RUSAGE_CHILDREN) gives the tree's exact CPU
//   time and /proc/self/io (minus this thread's own) its exact I/O counters.
// - Peak RSS of a tree is the largest sum of VmRSS over the tree's processes seen by sampling
//   every --interval-ms (shared pages counted once per process, as `ps` would).
// - A watched tree's CPU and I/O are sampled per process and per thread, and are the growth
//   of those counters while the command ran (work of a process that ended between two
//   samples is counted up to its last sample).
// The command's own exit status, wall time and the figures go to FILE as one JSON object;
// - With --port, the bytes carried by loopback TCP connections to that port (both directions,
//   counted on the connecting side from tcp_info's bytes_acked and bytes_received, read through
//   sock_diag at every sample). What a connection carries after its last sample is missed, so
//   the figure fits long transfers (backup, restore), not a connection per WAL segment.
// (/proc/<pid>/io cannot give network bytes: sendmsg and recvmsg are not counted there.)
// The number of processes that were reparented here (detached background work, such as an
// asynchronous archiver) is reported as "orphans". stdout and stderr of the command are passed through. The command runs in its own process
// group; SIGINT and SIGTERM are forwarded to that group.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Io {
  unsigned long long rchar = 0, wchar = 0, readBytes = 0, writeBytes = 0;
  Io& operator+=(const Io& o) {
    rchar += o.rchar, wchar += o.wchar, readBytes += o.readBytes, writeBytes += o.writeBytes;
    return *this;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Io readIo(const std::string& path) {
  Io io;
  std::istringstream in(slurp(path));
  std::string key;
  unsigned long long value;
  while (in >> key >> value) {
    if (key == "rchar:") io.rchar = value;
    else if (key == "wchar:") io.wchar = value;
    else if (key == "read_bytes:") io.readBytes = value;
    else if (key == "write_bytes:") io.writeBytes = value;
  }
  return io;
}

std::vector<long> listDir(const std::string& path) {
  std::vector<long> out;
  if (auto* dir = opendir(path.c_str())) {
    while (auto* e = readdir(dir))
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atol(e->d_name));
    closedir(dir);
  }
  return out;
}

// Children of every thread of pid (/proc/<pid>/task/<tid>/children).
std::vector<long> children(long pid) {
  std::vector<long> out;
  for (long tid : listDir("/proc/" + std::to_string(pid) + "/task")) {
    std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/children"));
    long child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

std::vector<long> tree(long root, bool includeRoot) {
  std::vector<long> out, todo{root};
  std::set<long> seen;
  while (!todo.empty()) {
    long pid = todo.back();
    todo.pop_back();
    if (!seen.insert(pid).second) continue;
    if (pid != root || includeRoot) out.push_back(pid);
    for (long c : children(pid)) todo.push_back(c);
  }
  return out;
}

// Own CPU ticks (utime + stime, all threads, not children) and resident pages of a process.
bool readStat(long pid, unsigned long long& ticks, long& rssPages) {
  std::string s = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto close = s.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(s.substr(close + 2));
  std::vector<std::string> f;
  std::string w;
  while (in >> w) f.push_back(w);
  // Fields after "comm": state(3) ppid(4) ... utime(14) stime(15) ... rss(24); f[0] is field 3.
  if (f.size() < 22) return false;
  ticks = std::stoull(f[11]) + std::stoull(f[12]);
  rssPages = std::stol(f[21]);
  return true;
}

// A sampled tree: per process the first and last CPU, per thread the first and last I/O.
struct Tree {
  std::string name;
  long root = 0;
  bool includeRoot = true;
  bool baseline = false;  // processes seen in the first sample existed before the command
  std::map<long, std::pair<unsigned long long, unsigned long long>> cpu;  // pid -> first, last
  std::map<std::pair<long, long>, std::pair<Io, Io>> io;                  // pid, tid -> first, last
  std::set<long> pids;
  long peakRss = 0;  // bytes

  void sample(bool withIo) {
    long rss = 0;
    long page = sysconf(_SC_PAGESIZE);
    for (long pid : tree(root, includeRoot)) {
      unsigned long long ticks;
      long pages;
      if (!readStat(pid, ticks, pages)) continue;
      rss += pages * page;
      pids.insert(pid);
      auto [it, fresh] = cpu.try_emplace(pid, baseline ? ticks : 0, ticks);
      if (!fresh) it->second.second = ticks;
      if (!withIo) continue;
      for (long tid : listDir("/proc/" + std::to_string(pid) + "/task")) {
        Io now = readIo("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/io");
        auto [jt, freshIo] = io.try_emplace({pid, tid}, baseline ? now : Io{}, now);
        if (!freshIo) jt->second.second = now;
      }
    }
    peakRss = std::max(peakRss, rss);
    baseline = false;
  }
  double cpuSeconds() const {
    unsigned long long t = 0;
    for (auto& [pid, v] : cpu) t += v.second - v.first;
    return static_cast<double>(t) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  Io ioGrowth() const {
    Io total;
    for (auto& [key, v] : io) {
      total.rchar += v.second.rchar - v.first.rchar;
      total.wchar += v.second.wchar - v.first.wchar;
      total.readBytes += v.second.readBytes - v.first.readBytes;
      total.writeBytes += v.second.writeBytes - v.first.writeBytes;
    }
    return total;
  }
};

// Bytes carried by the TCP connections to one local port, per socket (first and last seen).
struct Connections {
  int port = 0;
  bool baseline = true;
  std::map<std::pair<uint32_t, uint32_t>, std::pair<uint64_t, uint64_t>> bytes;  // cookie -> first, last

  void sample() {
    if (port == 0) return;
    for (int family : {AF_INET, AF_INET6}) dump(family);
    baseline = false;
  }
  void dump(int family) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return;
    struct {
      nlmsghdr nlh;
      inet_diag_req_v2 req;
    } request{};
    request.nlh.nlmsg_len = sizeof request;
    request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.req.sdiag_family = static_cast<uint8_t>(family);
    request.req.sdiag_protocol = IPPROTO_TCP;
    request.req.idiag_states = ~0U;
    request.req.idiag_ext = 1 << (INET_DIAG_INFO - 1);
    if (send(fd, &request, sizeof request, 0) < 0) {
      close(fd);
      return;
    }
    std::vector<char> buf(64 * 1024);
    for (bool done = false; !done;) {
      ssize_t n = recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<unsigned>(n));
           h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = true;
          break;
        }
        auto* msg = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
        if (ntohs(msg->id.idiag_dport) != port) continue;  // the connecting side only
        int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *msg));
        for (auto* a = reinterpret_cast<rtattr*>(msg + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
          if (a->rta_type != INET_DIAG_INFO) continue;
          tcp_info info{};
          std::memcpy(&info, RTA_DATA(a), std::min<size_t>(RTA_PAYLOAD(a), sizeof info));
          uint64_t total = info.tcpi_bytes_acked + info.tcpi_bytes_received;
          auto key = std::make_pair(msg->id.idiag_cookie[0], msg->id.idiag_cookie[1]);
          auto [it, fresh] = bytes.try_emplace(key, baseline ? total : 0, total);
          if (!fresh) it->second.second = std::max(it->second.second, total);
        }
      }
    }
    close(fd);
  }
  uint64_t growth() const {
    uint64_t t = 0;
    for (auto& [k, v] : bytes) t += v.second - v.first;
    return t;
  }
};

volatile sig_atomic_t gSignal = 0;
void onSignal(int s) { gSignal = s; }

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: pgbr-bench-run --json FILE [--interval-ms N] [--orphan-wait S] [--watch NAME=PID]... [--port N] -- "
               "CMD...\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string jsonPath;
  int intervalMs = 50;
  double orphanWait = 300;
  std::vector<Tree> watched;
  Connections net;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) usage();
    if (a == "--json") jsonPath = argv[++i];
    else if (a == "--interval-ms") intervalMs = std::atoi(argv[++i]);
    else if (a == "--orphan-wait") orphanWait = std::atof(argv[++i]);
    else if (a == "--port") net.port = std::atoi(argv[++i]);
    else if (a == "--watch") {
      std::string w = argv[++i];
      auto eq = w.find('=');
      if (eq == std::string::npos) usage();
      Tree t;
      t.name = w.substr(0, eq);
      t.root = std::atol(w.c_str() + eq + 1);
      t.baseline = true;
      watched.push_back(std::move(t));
    } else usage();
  }
  if (i >= argc || jsonPath.empty()) usage();

  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  for (auto& t : watched) t.sample(true);
  net.sample();
  Tree client;
  client.name = "client";
  client.root = getpid();
  client.includeRoot = false;

  auto start = Clock::now();
  pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    return 2;
  }
  if (child == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execvp(argv[i], argv + i);
    std::fprintf(stderr, "pgbr-bench-run: cannot run %s: %s\n", argv[i], std::strerror(errno));
    _exit(127);
  }
  setpgid(child, child);

  int status = 0;
  bool mainDone = false;
  std::set<long> orphans;  // processes reparented here: detached background work of the command
  double wall = 0, tail = 0;
  Clock::time_point mainEnd;
  bool forwarded = false;
  for (;;) {
    if (gSignal && !forwarded) {
      kill(-child, SIGTERM);
      forwarded = true;
    }
    client.sample(false);
    for (auto& t : watched) t.sample(true);
    net.sample();
    for (long c : children(getpid()))
      if (c != child) orphans.insert(c);
    // Reap everything that ended: the command and any orphan reparented here.
    for (;;) {
      int st;
      pid_t p = waitpid(-1, &st, WNOHANG);
      if (p <= 0) break;
      if (p == child) {
        status = st;
        mainDone = true;
        mainEnd = Clock::now();
        wall = std::chrono::duration<double>(mainEnd - start).count();
      }
    }
    if (mainDone) {
      bool running = !tree(getpid(), false).empty();
      double waited = std::chrono::duration<double>(Clock::now() - mainEnd).count();
      if (!running || waited > orphanWait || gSignal) {
        tail = waited;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(intervalMs));
  }
  for (auto& t : watched) t.sample(true);
  net.sample();

  struct rusage ru {};
  getrusage(RUSAGE_CHILDREN, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  Io all = readIo("/proc/self/io");
  Io own = readIo("/proc/thread-self/io");
  Io clientIo{all.rchar - own.rchar, all.wchar - own.wchar, all.readBytes - own.readBytes,
              all.writeBytes - own.writeBytes};
  int exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  bool leftOrphans = !tree(getpid(), false).empty();

  FILE* out = std::fopen(jsonPath.c_str(), "w");
  if (!out) {
    std::perror(jsonPath.c_str());
    return 2;
  }
  double user = secs(ru.ru_utime), sys = secs(ru.ru_stime);
  std::fprintf(out,
               "{\"exit\": %d, \"wall\": %.4f, \"tail\": %.4f, \"orphans\": %zu, \"orphans_left\": %s, \"client\": {\"user\": %.3f, "
               "\"sys\": %.3f, \"cpu\": %.3f, \"peak_rss\": %ld, \"max_rss_process\": %ld, \"rchar\": %llu, "
               "\"wchar\": %llu, \"read_bytes\": %llu, \"write_bytes\": %llu, \"processes\": %zu}",
               exitCode, wall, tail, orphans.size(), leftOrphans ? "true" : "false", user, sys, user + sys, client.peakRss,
               ru.ru_maxrss * 1024L, clientIo.rchar, clientIo.wchar, clientIo.readBytes, clientIo.writeBytes,
               client.pids.size());
  for (auto& t : watched) {
    Io g = t.ioGrowth();
    std::fprintf(out,
                 ", \"%s\": {\"cpu\": %.3f, \"peak_rss\": %ld, \"rchar\": %llu, \"wchar\": %llu, \"read_bytes\": %llu, "
                 "\"write_bytes\": %llu, \"processes\": %zu}",
                 t.name.c_str(), t.cpuSeconds(), t.peakRss, g.rchar, g.wchar, g.readBytes, g.writeBytes,
                 t.pids.size());
  }
  if (net.port) std::fprintf(out, ", \"network\": {\"port\": %d, \"bytes\": %llu, \"connections\": %zu}", net.port,
                             static_cast<unsigned long long>(net.growth()), net.bytes.size());
  std::fprintf(out, "}\n");
  std::fclose(out);
  if (gSignal) return 128 + gSignal;
  return exitCode;
}
