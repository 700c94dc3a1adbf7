// gmptrace/target.cpp — see target.hpp.
#include "gmptrace/target.hpp"

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "gmp/probes_abi.h"

namespace gmp::trace {

namespace {

bool has_gmp_notes(const ElfProbes& e) {
  for (const auto& n : e.notes)
    if (n.provider == "gmp") return true;
  return false;
}

Failure not_gmp(const std::string& what) {
  return {kExitNotGmp, what + " has no gmp USDT probes: not a gmprt process (or built with -DGMP_PROBES=OFF); "
                              "trace a program linked with gmprt, e.g. gmprun"};
}

}  // namespace

Failure resolve_file(const std::string& file, Target* t) {
  std::string path = file;
  if (file.find('/') == std::string::npos) {
    const char* env = std::getenv("PATH");
    std::istringstream in(env != nullptr ? env : "/usr/bin:/bin");
    for (std::string dir; std::getline(in, dir, ':');) {
      std::string c = dir + "/" + file;
      if (access(c.c_str(), X_OK) == 0) {
        path = c;
        break;
      }
    }
  }
  char real[PATH_MAX];
  if (realpath(path.c_str(), real) == nullptr)
    return {kExitNoTarget, file + ": " + std::strerror(errno) + " (give a path to a gmprt program, or a name on $PATH)"};
  t->path = real;
  t->elf = read_elf_probes(t->path);
  if (!t->elf.error.empty()) return {kExitNotGmp, t->elf.error};
  if (!has_gmp_notes(t->elf)) return not_gmp(t->path);
  return {};
}

Failure resolve_pid(pid_t pid, Target* t) {
  t->pid = pid;
  if (kill(pid, 0) != 0 && errno == ESRCH)
    return {kExitNoTarget, "pid " + std::to_string(pid) + " is not running (give the pid of a live gmprt process)"};
  std::string proc = "/proc/" + std::to_string(pid);
  char buf[PATH_MAX];
  ssize_t n = readlink((proc + "/exe").c_str(), buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    std::string exe = buf;
    // Read through /proc/PID/root so a process in another mount namespace
    // resolves to its own file.
    ElfProbes e = read_elf_probes(proc + "/exe");
    if (e.error.empty() && has_gmp_notes(e)) {
      t->path = exe;
      t->elf = std::move(e);
      return {};
    }
  } else if (errno == ESRCH || errno == ENOENT) {
    return {kExitNoTarget, "pid " + std::to_string(pid) + " is not running (give the pid of a live gmprt process)"};
  }
  // A library that holds the runtime (a user workload linked with gmprt).
  std::ifstream maps(proc + "/maps");
  std::set<std::string> seen;
  for (std::string line; std::getline(maps, line);) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string file = line.substr(slash);
    if (!seen.insert(file).second) continue;
    ElfProbes e = read_elf_probes(file);
    if (e.error.empty() && has_gmp_notes(e)) {
      t->path = file;
      t->elf = std::move(e);
      return {};
    }
  }
  if (seen.empty() && n <= 0)
    return {kExitNoTarget, "pid " + std::to_string(pid) + ": cannot read /proc/" + std::to_string(pid) +
                               "/maps (not running, or not permitted)"};
  return not_gmp("pid " + std::to_string(pid) + " (" + (n > 0 ? std::string(buf) : std::string("?")) + ")");
}

Failure check_version(const Target& t) {
  if (!t.elf.has_version)
    return {kExitVersion, t.path + " has gmp probes but no gmp_probes_version symbol (probe set 1, or stripped); "
                                   "this gmptrace reads probe set " + std::to_string(GMP_PROBES_VERSION)};
  if (t.elf.version != GMP_PROBES_VERSION)
    return {kExitVersion, t.path + " carries probe set " + std::to_string(t.elf.version) + "; this gmptrace reads " +
                              std::to_string(GMP_PROBES_VERSION) + " (use the gmptrace built with it)"};
  return {};
}

std::string role_of(const std::string& comm) {
  if (comm.rfind("gmp-m", 0) == 0 && comm.size() > 5) return "M " + comm.substr(5);
  if (comm == "gmp-sysmon") return "sysmon";
  return "other";
}

namespace {
std::map<int, std::string> live_threads(pid_t pid) {
  std::map<int, std::string> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/comm");
    std::string comm;
    std::getline(f, comm);
    out[std::atoi(e->d_name)] = role_of(comm) == "other" ? "other:" + comm : role_of(comm);
  }
  closedir(d);
  return out;
}
}  // namespace

std::map<int, std::string> thread_roles(pid_t pid) {
  // Threads that exited keep the role they were last seen with (the final
  // report of a target that has exited still names its Ms): the tool calls
  // this every few hundred ms while it traces.
  static std::map<pid_t, std::map<int, std::string>> seen;
  std::map<int, std::string>& out = seen[pid];
  for (auto& [tid, role] : live_threads(pid)) out[tid] = role;
  return out;
}

Failure check_environment() {
  // CAP_BPF (39) and CAP_PERFMON (38) in the effective set, or root.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  bool caps = false;
  if (syscall(SYS_capget, &hdr, data) == 0) {
    auto has = [&](int c) { return (data[c / 32].effective & (1u << (c % 32))) != 0; };
    caps = (has(39) && has(38)) || has(21 /* CAP_SYS_ADMIN */);
  }
  if (geteuid() != 0 && !caps)
    return {kExitPrivilege, "not permitted: gmptrace needs root, or CAP_BPF and CAP_PERFMON (run it with sudo)"};
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return {kExitNoBtf, "the kernel has no BTF (/sys/kernel/btf/vmlinux is missing): CO-RE programs need a kernel "
                        "built with CONFIG_DEBUG_INFO_BTF=y"};
  if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, nullptr) != 1 ||
      libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) != 1)
    return {kExitNoBpf, "the kernel refuses BPF tracing programs or ring buffers (needs Linux >= 5.8 with "
                        "CONFIG_BPF_SYSCALL; check kernel.unprivileged_bpf_disabled and lockdown)"};
  return {};
}

Header read_header(const Target& t) {
  Header h;
  for (const auto& [tid, role] : live_threads(t.pid)) {
    h.threads++;
    if (role.rfind("M ", 0) == 0) h.ms++;
  }
  // gmp_probe_state (trace/probes.cpp): the addresses of the runtime's P
  // count (int) and live-goroutine count (u64), for tracers to read.
  std::uint64_t addr = t.elf.symbol("gmp_probe_state");
  if (addr == 0) return h;
  // A PIE's symbol is relative to its load address: the first mapping of the file.
  std::ifstream maps("/proc/" + std::to_string(t.pid) + "/maps");
  std::uint64_t base = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.size() < t.path.size() || line.compare(line.size() - t.path.size(), t.path.size(), t.path) != 0) continue;
    std::uint64_t lo = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    std::istringstream in(line);
    std::string range, perms, off;
    in >> range >> perms >> off;
    base = lo - std::stoull(off, nullptr, 16);
    break;
  }
  auto peek = [&](std::uint64_t at, void* dst, std::size_t n) {
    iovec local{dst, n};
    iovec remote{reinterpret_cast<void*>(at), n};
    return process_vm_readv(t.pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n);
  };
  std::uint64_t ptrs[2] = {0, 0};
  if (!peek(base + addr, ptrs, sizeof ptrs)) return h;
  int ps = -1;
  std::uint64_t live = 0;
  if (ptrs[0] != 0 && peek(ptrs[0], &ps, sizeof ps)) h.ps = ps;
  if (ptrs[1] != 0 && peek(ptrs[1], &live, sizeof live)) h.goroutines = static_cast<long long>(live);
  return h;
}

}  // namespace gmp::trace
