#include "api/cli_ledger.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "replay/snapshot.h"

namespace fundledger {
namespace {

Result<OpenedLedger> Open(const std::string& dir, bool read_only, const std::string& vault_key,
                          int64_t checkpoint_interval_ms) {
  if (!read_only) FL_RETURN_IF_ERROR(CheckStoreNotInUse(dir));
  OpenedLedger opened;
  opened.projections = std::make_unique<Projections>();
  Projections& projections = *opened.projections;
  LedgerOptions options = WithSnapshots(dir, projections, WithProjections(projections, {}));
  options.log.read_only = read_only;
  options.vault_key_path = vault_key;
  options.log.checkpoint_interval_ms = checkpoint_interval_ms;
  FL_ASSIGN_OR_RETURN(opened.ledger, Ledger::Open(dir, options));
  return opened;
}

}  // namespace

Status CheckStoreNotInUse(const std::string& dir) {
  const std::string lock_path = StorePath(dir) + "/LOCK";
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Ok();  // no store yet, or none to lock: the open says what is wrong
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  bool held = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  if (!held) return Status::Ok();
  return Conflict("the data directory " + dir + " is in use: a server (fundledger serve, pid " +
                  std::to_string(probe.l_pid) +
                  ") is running on it. Stop the server first, or send this through its HTTP API");
}

std::string VaultKeyNotice(const std::string& dir, const std::string& given) {
  return "vault master key: " + ResolveVaultKey(dir, given).path +
         "\n  it opens every person's record and is not in the data directory: back it up "
         "separately (README.md, Backup and restore)\n";
}

std::string VaultKeyInsideWarning(const std::string& dir, const std::string& given) {
  namespace fs = std::filesystem;
  VaultKeyLocation key = ResolveVaultKey(dir, given);
  std::error_code ec;
  fs::path data = fs::weakly_canonical(dir, ec);
  fs::path file = fs::weakly_canonical(key.path, ec);
  auto [end, _] = std::mismatch(data.begin(), data.end(), file.begin(), file.end());
  if (ec || end != data.end()) return "";
  return "warning: the vault master key " + key.path + " is inside the data directory " + dir +
         ", so every copy of the directory carries it; move it to " + VaultKeyDir(dir) +
         "/vault.key (mode 0600, directory 0700) or name it with --vault-key\n";
}

Result<std::unique_ptr<Log>> OpenLogReadOnly(const std::string& dir, bool check_tail) {
  LogOptions options;
  options.read_only = true;
  options.check_tail_on_open = check_tail;
  return Log::Open(dir, options);
}

Result<OpenedLedger> OpenLedgerReadOnly(const std::string& dir) {
  return Open(dir, /*read_only=*/true, "", 0);
}

Result<OpenedLedger> OpenLedgerForWrite(const std::string& dir, const std::string& vault_key,
                                        int64_t checkpoint_interval_ms) {
  FL_ASSIGN_OR_RETURN(OpenedLedger opened,
                      Open(dir, /*read_only=*/false, vault_key, checkpoint_interval_ms));
  return opened;
}

}  // namespace fundledger
