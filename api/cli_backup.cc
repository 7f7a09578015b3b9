#include "api/cli_backup.h"

#include <fmt/core.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/cli_exit.h"
#include "api/cli_ledger.h"
#include "api/disclosure_render.h"
#include "api/entry_json.h"
#include "api/store_copy.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"
#include "ledger/log_clock.h"
#include "replay/chain_verifier.h"

namespace fundledger {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBackupFormat = "fundledger-backup-v1";
constexpr const char* kManifestFile = "manifest.json";
constexpr size_t kCheckpointBytesMax = 64 << 10;

// The files of a data directory besides its store that a backup carries: the log's signing key
// (a restored ledger appends and signs), the token table, staff accounts, region names and
// published reports. Not the vault key, snapshots or the scrub's watermark (rebuilt).
std::vector<std::string> DataFiles() {
  return {"signing.key", "tokens", "accounts", kRegionNamesFile, "disclosures"};
}

Status CopyDataFiles(const std::string& from, const std::string& to) {
  for (const std::string& name : DataFiles()) {
    std::error_code ec;
    if (!fs::exists(from + "/" + name, ec)) continue;
    fs::copy(from + "/" + name, to + "/" + name, fs::copy_options::recursive, ec);
    if (ec) return IoError("cannot copy " + from + "/" + name + ": " + ec.message());
  }
  return Status::Ok();
}

// A directory the command may create: absent, or empty.
Status CheckEmptyTarget(const std::string& dir, std::string_view field) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::Ok();
  if (!fs::is_directory(dir, ec) || !fs::is_empty(dir, ec)) {
    return InvalidArgument(dir +
                           " is not empty: give a new or empty directory (nothing was written)")
        .WithField(std::string(field));
  }
  return Status::Ok();
}

Status MoveIntoPlace(const std::string& staging, const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) fs::remove(dir, ec);  // empty: CheckEmptyTarget
  fs::rename(staging, dir, ec);
  if (ec) return IoError("cannot rename " + staging + " to " + dir + ": " + ec.message());
  return Status::Ok();
}

// A staging directory beside `dir` (the same file system, so the last step is a rename) that
// is removed unless kept.
class Staging {
 public:
  Staging(const std::string& dir, std::string_view what)
      : path_(dir + "." + std::string(what) + "-" + std::to_string(::getpid())) {}
  ~Staging() {
    std::error_code ec;
    if (!kept_) fs::remove_all(path_, ec);
  }
  Status Create() {
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (!fs::create_directories(path_, ec))
      return IoError("cannot create " + path_ + ": " + ec.message());
    fs::permissions(path_, fs::perms::owner_all, ec);
    return Status::Ok();
  }
  const std::string& path() const { return path_; }
  void Keep() { kept_ = true; }

 private:
  std::string path_;
  bool kept_ = false;
};

struct VerifiedCopy {
  std::unique_ptr<Log> log;
  VerifyReport report;
};

// The copy at `dir` verified from entry 0, as `verify` does; `what` names it in errors.
Result<VerifiedCopy> VerifyCopy(const std::string& dir, const std::string& what) {
  VerifiedCopy copy;
  Result<std::unique_ptr<Log>> log = OpenLogReadOnly(dir, /*check_tail=*/false);
  if (!log.ok()) return Status(log.status().code(), what + ": " + log.status().message());
  copy.log = std::move(log).value();
  copy.report = VerifyChain(*copy.log, VerifyOptions{});
  if (copy.report.unusable) return IoError(what + " cannot be read: " + copy.report.reason);
  if (!copy.report.valid) {
    return Corruption(what + " is INVALID at entry " + std::to_string(copy.report.bad_index) +
                      ": " + copy.report.reason);
  }
  return copy;
}

Status WriteManifest(const std::string& path, const VerifiedCopy& copy, const StoreCopyReport& rows,
                     const std::string& vault_rows) {
  FL_ASSIGN_OR_RETURN(std::string note, copy.log->LatestCheckpoint());
  boost::json::object m;
  m["format"] = kBackupFormat;
  m["origin"] = copy.report.origin;
  m["size"] = copy.report.size;
  m["root"] = HashHex(copy.report.root);
  m["checkpoint_size"] = copy.report.latest_checkpoint_size;
  m["checkpoint"] = note;
  m["created_ms"] = SystemLogClock().NowMs();
  m["store_rows"] = rows.rows;
  m["vault_rows"] = vault_rows;
  m["vault_rows_count"] = rows.vault_rows_apart;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << PrettyJson(m);
  out.close();
  if (!out) return IoError("cannot write " + path);
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path, size_t bytes_max,
                                  std::string_view field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(NotFound("cannot read " + path)).WithField(std::string(field));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().size() > bytes_max)
    return InvalidArgument(path + " is too large to be one").WithField(std::string(field));
  return buf.str();
}

// Takes the backup into `staging`: the store, the data files, the vault rows apart; verified.
Result<VerifiedCopy> TakeBackup(const BackupFlags& f, const std::string& staging,
                                const std::string& vault_rows_path) {
  VaultRowsWriter vault_rows(vault_rows_path);
  FL_RETURN_IF_ERROR(vault_rows.Open());
  const std::string work = staging + "/.secondary";
  FL_ASSIGN_OR_RETURN(StoreCopyReport rows,
                      CopyLiveStore(f.dir, StorePath(staging), work, vault_rows));
  std::error_code ec;
  fs::remove_all(work, ec);
  FL_RETURN_IF_ERROR(CopyDataFiles(f.dir, staging));
  FL_ASSIGN_OR_RETURN(VerifiedCopy copy, VerifyCopy(staging, "the backup"));
  FL_RETURN_IF_ERROR(WriteManifest(staging + "/" + kManifestFile, copy, rows, vault_rows_path));
  FL_RETURN_IF_ERROR(vault_rows.Commit());
  return copy;
}

// The restored log against the checkpoint the operator kept: signed by the log's key, no
// longer than the log, and the same tree at its size.
Status CheckAgainstKept(const VerifiedCopy& copy, const std::string& note) {
  const Log& log = *copy.log;
  Result<Checkpoint> kept = OpenCheckpoint(note, log.verifier());
  if (!kept.ok()) {
    return InvalidArgument("the kept checkpoint is not one of this backup's log (origin " +
                           log.origin() + ", key " + log.vkey() + "): " + kept.status().message())
        .WithField("checkpoint");
  }
  const uint64_t size = copy.report.size;
  if (kept->size > size) {
    return Conflict("the backup is ROLLED BACK: its log holds " + std::to_string(size) +
                    " entries, the kept checkpoint " + std::to_string(kept->size) + " (entries " +
                    std::to_string(size) + ".." + std::to_string(kept->size - 1) + " are missing)");
  }
  FL_ASSIGN_OR_RETURN(Hash root, TreeRoot(log, kept->size));
  if (root != kept->root) {
    return Conflict("the backup is FORKED from the kept checkpoint: at size " +
                    std::to_string(kept->size) + " its tree's root is " + HashHex(root) +
                    ", the kept checkpoint's is " + HashHex(kept->root));
  }
  return Status::Ok();
}

// The vault rows file for the restore: the one given, else the default beside the restored
// ledger's master key when it is there; "" when there is none.
Result<std::string> RestoreVaultRowsPath(const RestoreFlags& f) {
  if (!f.vault_rows.empty()) {
    if (!fs::exists(f.vault_rows))
      return Status(NotFound("no vault rows file " + f.vault_rows)).WithField("vault-rows");
    return f.vault_rows;
  }
  std::string fallback = BackupVaultRowsPath(f.to);
  return fs::exists(fallback) ? fallback : "";
}

Result<VerifiedCopy> Restore(const RestoreFlags& f, const std::string& staging,
                             const std::string& note, const std::string& vault_rows) {
  std::error_code ec;
  fs::copy(StorePath(f.from), StorePath(staging), fs::copy_options::recursive, ec);
  if (ec) return IoError("cannot copy " + StorePath(f.from) + ": " + ec.message());
  FL_RETURN_IF_ERROR(CopyDataFiles(f.from, staging));
  FL_ASSIGN_OR_RETURN(VerifiedCopy copy, VerifyCopy(staging, "the backup's log"));
  FL_RETURN_IF_ERROR(CheckAgainstKept(copy, note));
  FL_RETURN_IF_ERROR(copy.log->Close());
  if (!vault_rows.empty()) {
    FL_ASSIGN_OR_RETURN(auto rows, ReadVaultRows(vault_rows));
    FL_RETURN_IF_ERROR(PutVaultRows(StorePath(staging), rows));
  }
  return copy;
}

}  // namespace

std::string BackupVaultRowsPath(const std::string& dir, const std::string& vault_key) {
  VaultKeyLocation key = ResolveVaultKey(dir, vault_key);
  std::string keys_dir = key.source == VaultKeyLocation::Source::kInsideDataDir
                             ? VaultKeyDir(dir)
                             : fs::path(key.path).parent_path().string();
  return (keys_dir.empty() ? std::string(".") : keys_dir) + "/vault-rows";
}

int CmdBackup(const BackupFlags& f) {
  if (Status target = CheckEmptyTarget(f.to, "to"); !target.ok()) return ExitFailure(target);
  if (!fs::exists(StorePath(f.dir)))
    return ExitFailure(Status(NotFound("no ledger at " + f.dir)).WithField("data"));
  const std::string vault_rows = f.vault_rows.empty() ? BackupVaultRowsPath(f.dir) : f.vault_rows;
  std::error_code ec;
  std::string rows_dir = fs::path(vault_rows).parent_path().string();
  if (!rows_dir.empty() && !fs::exists(rows_dir)) {
    fs::create_directory(rows_dir, ec);
    fs::permissions(rows_dir, fs::perms::owner_all, ec);
  }
  Staging staging(f.to, "partial");
  if (Status s = staging.Create(); !s.ok()) return ExitFailure(s);
  Result<VerifiedCopy> copy = TakeBackup(f, staging.path(), vault_rows);
  if (!copy.ok()) return ExitFailure(copy.status());
  const VerifyReport& r = copy->report;
  if (Status closed = copy->log->Close(); !closed.ok()) return ExitFailure(closed);
  if (Status moved = MoveIntoPlace(staging.path(), f.to); !moved.ok()) return ExitFailure(moved);
  staging.Keep();
  fmt::print(
      "backed up {} entries of {} to {} (root {}, latest signed checkpoint at size {})\n"
      "manifest: {}/{}\n"
      "vault rows (persons' keys and the ID index) kept apart in {}; with the vault master key "
      "{}, back them up separately, not with the backup\n",
      r.size, r.origin, f.to, HashHex(r.root), r.latest_checkpoint_size, f.to, kManifestFile,
      vault_rows, ResolveVaultKey(f.dir, "").path);
  return kExitOk;
}

int CmdRestore(const RestoreFlags& f) {
  Result<std::string> note = ReadSmallFile(f.checkpoint, kCheckpointBytesMax, "checkpoint");
  if (!note.ok()) return ExitFailure(note.status());
  if (Status target = CheckEmptyTarget(f.to, "to"); !target.ok()) return ExitFailure(target);
  if (!fs::exists(f.from + "/" + kManifestFile) || !fs::exists(StorePath(f.from))) {
    return ExitFailure(
        InvalidArgument(f.from + " is not a fundledger backup (no manifest.json and store/)")
            .WithField("from"));
  }
  Result<std::string> vault_rows = RestoreVaultRowsPath(f);
  if (!vault_rows.ok()) return ExitFailure(vault_rows.status());
  Staging staging(f.to, "restoring");
  if (Status s = staging.Create(); !s.ok()) return ExitFailure(s);
  Result<VerifiedCopy> copy = Restore(f, staging.path(), *note, *vault_rows);
  if (!copy.ok()) {
    fmt::print(stderr, "restore refused; {} was not touched\n", f.to);
    return ExitFailure(copy.status());
  }
  if (Status moved = MoveIntoPlace(staging.path(), f.to); !moved.ok()) return ExitFailure(moved);
  staging.Keep();
  const VerifyReport& r = copy->report;
  fmt::print(
      "restored {} entries of {} to {}: the log verifies (root {}) and is consistent with "
      "the kept checkpoint\n",
      r.size, r.origin, f.to, HashHex(r.root));
  if (vault_rows->empty()) {
    fmt::print("no vault rows file: the persons' records stay sealed (give --vault-rows)\n");
  } else {
    fmt::print("vault rows restored from {}\n", *vault_rows);
  }
  fmt::print("it opens for writing with its vault master key at {} (or --vault-key)\n",
             ResolveVaultKey(f.to, "").path);
  return kExitOk;
}

}  // namespace fundledger
