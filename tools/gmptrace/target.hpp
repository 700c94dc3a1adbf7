// gmptrace/target.hpp — the process being traced: its pid, the ELF file that
// holds the gmp probes (the executable, or a mapped library), the probe-set
// version it carries, and the roles of its threads from their names.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "gmptrace/elf_probes.hpp"

namespace gmp::trace {

struct Target {
  pid_t pid = -1;
  std::string path;  // the ELF file with the gmp probes
  ElfProbes elf;
  bool launched = false;  // started by gmptrace (-- CMD)
};

// Documented exit codes (docs/TRACING.md, --help).
enum Exit : int {
  kExitOk = 0,
  kExitError = 1,        // anything else (a load failure, an I/O error)
  kExitUsage = 2,        // bad command line
  kExitPrivilege = 3,    // not root and no CAP_BPF + CAP_PERFMON
  kExitNoBtf = 4,        // the kernel has no BTF (/sys/kernel/btf/vmlinux)
  kExitNoBpf = 5,        // the kernel refuses BPF programs
  kExitNoTarget = 6,     // the target process is not running / cannot be started
  kExitNotGmp = 7,       // the target has no gmp probes (not a gmprt process)
  kExitVersion = 8,      // the target's probe-set version is not this tool's
  kExitNoneAttached = 9  // not one program could attach
};

struct Failure {
  int code = kExitOk;
  std::string message;  // one line
};

// Finds the file with the gmp probes for a running pid: /proc/PID/exe, else
// the first mapped file (/proc/PID/maps) whose notes have provider gmp.
Failure resolve_pid(pid_t pid, Target* t);
// The same for a file (gmptrace list BINARY, -- CMD): PATH lookup for a bare name.
Failure resolve_file(const std::string& file, Target* t);
// Version check: the target's gmp_probes_version against GMP_PROBES_VERSION.
Failure check_version(const Target& t);

// Threads of pid: tid -> role ("M 3", "sysmon", "other: <comm>").
std::map<int, std::string> thread_roles(pid_t pid);
std::string role_of(const std::string& comm);

// The runtime's header line of the target: Ps, Ms, goroutines (Ps and
// goroutines read from the target's memory when its layout is known, else -1).
struct Header {
  int ps = -1, ms = 0, threads = 0;
  long long goroutines = -1;
};
Header read_header(const Target& t);

// Privilege and kernel checks, in the order the exit codes are documented.
Failure check_environment();

}  // namespace gmp::trace
