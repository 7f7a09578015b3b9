#include "api/cli_log.h"

#include <fmt/core.h>
#include <unistd.h>

#include <functional>

#include "api/cli_exit.h"
#include "api/cli_ledger.h"
#include "api/entry_json.h"
#include "crypto/checkpoint.h"
#include "replay/chain_verifier.h"

namespace fundledger {
namespace {

// The size a proof is computed for: the given one, or the latest signed checkpoint's.
Result<uint64_t> ProofSize(const Log& log, std::optional<uint64_t> size) {
  if (size) return *size;
  FL_ASSIGN_OR_RETURN(std::string note, log.LatestCheckpoint());
  FL_ASSIGN_OR_RETURN(Checkpoint cp, OpenCheckpoint(note, log.verifier()));
  return cp.size;
}

// Prints the proof `read` computes at the tree size asked for (default: the latest checkpoint).
int PrintProof(const std::string& dir, std::optional<uint64_t> size_opt,
               const std::function<Result<boost::json::object>(const Log&, uint64_t)>& read) {
  Result<std::unique_ptr<Log>> log = OpenLogReadOnly(dir);
  if (!log.ok()) return ExitFailure(log.status());
  Result<uint64_t> size = ProofSize(**log, size_opt);
  if (!size.ok()) return ExitFailure(size.status());
  Result<boost::json::object> proof = read(**log, *size);
  if (!proof.ok()) return ExitFailure(proof.status());
  fmt::print("{}", PrettyJson(*proof));
  return kExitOk;
}

}  // namespace

int CmdInit(const std::string& dir, const std::string& origin) {
  // The whole ledger, not only its log: the vault key and the projections' rows too, so that
  // serve, post and import work on it at once.
  Projections projections;
  Result<std::unique_ptr<Ledger>> ledger =
      Ledger::Create(dir, origin, WithProjections(projections, {}));
  if (!ledger.ok()) return ExitFailure(ledger.status());
  const Log& log = (*ledger)->log();
  Result<std::string> note = log.LatestCheckpoint();
  if (!note.ok()) return ExitFailure(note.status());
  fmt::print("initialised ledger {} at {}\nkey: {}\n{}\n{}", origin, dir, log.vkey(),
             VaultKeyNotice(dir), *note);
  Status closed = (*ledger)->Close();
  return closed.ok() ? kExitOk : ExitFailure(closed);
}

int CmdCheckpoint(const std::string& dir) {
  Result<std::unique_ptr<Log>> log = OpenLogReadOnly(dir);
  if (!log.ok()) return ExitFailure(log.status());
  Result<std::string> note = (*log)->LatestCheckpoint();
  if (!note.ok()) return ExitFailure(note.status());
  fmt::print("{}", *note);
  return kExitOk;
}

int CmdKey(const std::string& dir) {
  Result<std::unique_ptr<Log>> log = OpenLogReadOnly(dir);
  if (!log.ok()) return ExitFailure(log.status());
  fmt::print("{}\n", (*log)->vkey());
  return kExitOk;
}

int CmdVerify(const std::string& dir, const std::string& vkey, unsigned threads) {
  VerifyOptions options;
  options.threads = threads;
  if (!vkey.empty()) {
    Result<NoteVerifier> v = ParseVerifierKey(vkey);
    if (!v.ok()) return ExitFailure(v.status());
    options.trusted_key = *v;
  }
  // The walk from entry 0 checks everything the tail check would, and names the first bad entry.
  Result<std::unique_ptr<Log>> log = OpenLogReadOnly(dir, /*check_tail=*/false);
  if (!log.ok()) {
    // A store that refuses to open because it is inconsistent is an invalid log, not bad input.
    if (log.status().code() == StatusCode::kCorruption) {
      fmt::print("INVALID: {}\n", log.status().message());
      return kExitFailed;
    }
    return ExitFailure(log.status());
  }
  bool tty = ::isatty(STDERR_FILENO);
  uint64_t total = (*log)->size();
  if (tty) {
    options.progress_every = 100'000;
    options.progress = [&](uint64_t done) {
      fmt::print(stderr, "\rverified {} / {} entries", done, total);
    };
  }
  VerifyReport r = VerifyChain(**log, options);
  if (tty && total >= options.progress_every) fmt::print(stderr, "\n");
  if (r.unusable) {
    fmt::print(stderr, "error: {}\n", r.reason);
    return kExitUnusable;
  }
  if (!r.valid) {
    fmt::print("INVALID at entry {}: {}\n", r.bad_index, r.reason);
    return kExitFailed;
  }
  fmt::print(
      "valid: {} entries, root {}, {} signed checkpoints (latest at size {})\norigin: {}\nkey: "
      "{}\n",
      r.size, HashHex(r.root), r.checkpoints, r.latest_checkpoint_size, r.origin, r.vkey);
  fmt::print("signatures: {} signed commands verified; {}\n", r.signed_commands,
             r.signing_required_from
                 ? "every entry from " + std::to_string(*r.signing_required_from) +
                       " on is signed (those before, and the genesis, unsigned by design)"
                 : std::string("signing is not required (no SigningRequired entry)"));
  return kExitOk;
}

int CmdProveInclusion(const std::string& dir, uint64_t index, std::optional<uint64_t> size) {
  return PrintProof(
      dir, size, [&](const Log& log, uint64_t at) { return ReadInclusionProof(log, index, at); });
}

int CmdProveConsistency(const std::string& dir, uint64_t old_size, std::optional<uint64_t> size) {
  return PrintProof(dir, size, [&](const Log& log, uint64_t at) {
    return ReadConsistencyProof(log, old_size, at);
  });
}

int CmdEntry(const std::string& dir, uint64_t index) {
  Result<std::unique_ptr<Log>> log = OpenLogReadOnly(dir);
  if (!log.ok()) return ExitFailure(log.status());
  Result<Bytes> bytes = (*log)->ReadEntry(index);
  if (!bytes.ok()) return ExitFailure(bytes.status());
  Result<boost::json::object> view = EntryToJson(index, *bytes);
  if (!view.ok()) return ExitFailure(view.status());
  fmt::print("{}", PrettyJson(*view));
  return kExitOk;
}

}  // namespace fundledger
