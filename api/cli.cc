#include "api/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "api/entry_json.h"
#include "crypto/checkpoint.h"
#include "ledger/log.h"
#include "replay/chain_verifier.h"

namespace fundledger {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUnusable = 2;

int Fail(const Status& s) {
  fmt::print(stderr, "error: {}\n", s.ToString());
  return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument
             ? kExitUnusable
             : kExitFailed;
}

Result<std::unique_ptr<Log>> OpenReadOnly(const std::string& dir, bool check_tail = true) {
  LogOptions options;
  options.read_only = true;
  options.check_tail_on_open = check_tail;
  return Log::Open(dir, options);
}

// The size a proof is computed for: the given one, or the latest signed checkpoint's.
Result<uint64_t> ProofSize(const Log& log, std::optional<uint64_t> size) {
  if (size) return *size;
  FL_ASSIGN_OR_RETURN(std::string note, log.LatestCheckpoint());
  FL_ASSIGN_OR_RETURN(Checkpoint cp, OpenCheckpoint(note, log.verifier()));
  return cp.size;
}

int CmdInit(const std::string& dir, const std::string& origin) {
  Result<std::unique_ptr<Log>> log = Log::Create(dir, origin);
  if (!log.ok()) return Fail(log.status());
  Result<std::string> note = (*log)->LatestCheckpoint();
  if (!note.ok()) return Fail(note.status());
  fmt::print("initialised ledger {} at {}\nkey: {}\n\n{}", origin, dir, (*log)->vkey(), *note);
  Status closed = (*log)->Close();
  return closed.ok() ? kExitOk : Fail(closed);
}

int CmdCheckpoint(const std::string& dir) {
  Result<std::unique_ptr<Log>> log = OpenReadOnly(dir);
  if (!log.ok()) return Fail(log.status());
  Result<std::string> note = (*log)->LatestCheckpoint();
  if (!note.ok()) return Fail(note.status());
  fmt::print("{}", *note);
  return kExitOk;
}

int CmdKey(const std::string& dir) {
  Result<std::unique_ptr<Log>> log = OpenReadOnly(dir);
  if (!log.ok()) return Fail(log.status());
  fmt::print("{}\n", (*log)->vkey());
  return kExitOk;
}

int CmdVerify(const std::string& dir, const std::string& vkey) {
  VerifyOptions options;
  if (!vkey.empty()) {
    Result<NoteVerifier> v = ParseVerifierKey(vkey);
    if (!v.ok()) return Fail(v.status());
    options.trusted_key = *v;
  }
  // The walk from entry 0 checks everything the tail check would, and names the first bad entry.
  Result<std::unique_ptr<Log>> log = OpenReadOnly(dir, /*check_tail=*/false);
  if (!log.ok()) {
    // A store that refuses to open because it is inconsistent is an invalid log, not bad input.
    if (log.status().code() == StatusCode::kCorruption) {
      fmt::print("INVALID: {}\n", log.status().message());
      return kExitFailed;
    }
    return Fail(log.status());
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
  fmt::print("valid: {} entries, root {}, {} signed checkpoints (latest at size {})\norigin: {}\nkey: {}\n",
             r.size, HashHex(r.root), r.checkpoints, r.latest_checkpoint_size, r.origin, r.vkey);
  return kExitOk;
}

int CmdProveInclusion(const std::string& dir, uint64_t index, std::optional<uint64_t> size_opt) {
  Result<std::unique_ptr<Log>> log = OpenReadOnly(dir);
  if (!log.ok()) return Fail(log.status());
  Result<uint64_t> size = ProofSize(**log, size_opt);
  if (!size.ok()) return Fail(size.status());
  Result<std::vector<Hash>> proof = (*log)->ProveInclusion(index, *size);
  if (!proof.ok()) return Fail(proof.status());
  Result<Hash> leaf = (*log)->ReadNode(0, index);
  Result<Hash> root = TreeRoot(**log, *size);
  if (!leaf.ok()) return Fail(leaf.status());
  if (!root.ok()) return Fail(root.status());
  fmt::print("{}", PrettyJson(InclusionProofJson(index, *size, *leaf, *proof, *root)));
  return kExitOk;
}

int CmdProveConsistency(const std::string& dir, uint64_t old_size, std::optional<uint64_t> size_opt) {
  Result<std::unique_ptr<Log>> log = OpenReadOnly(dir);
  if (!log.ok()) return Fail(log.status());
  Result<uint64_t> size = ProofSize(**log, size_opt);
  if (!size.ok()) return Fail(size.status());
  Result<std::vector<Hash>> proof = (*log)->ProveConsistency(old_size, *size);
  if (!proof.ok()) return Fail(proof.status());
  Result<Hash> old_root = TreeRoot(**log, old_size);
  Result<Hash> root = TreeRoot(**log, *size);
  if (!old_root.ok()) return Fail(old_root.status());
  if (!root.ok()) return Fail(root.status());
  fmt::print("{}", PrettyJson(ConsistencyProofJson(old_size, *size, *proof, *old_root, *root)));
  return kExitOk;
}

int CmdEntry(const std::string& dir, uint64_t index) {
  Result<std::unique_ptr<Log>> log = OpenReadOnly(dir);
  if (!log.ok()) return Fail(log.status());
  Result<Bytes> bytes = (*log)->ReadEntry(index);
  if (!bytes.ok()) return Fail(bytes.status());
  Result<boost::json::object> view = EntryToJson(index, *bytes);
  if (!view.ok()) return Fail(view.status());
  fmt::print("{}", PrettyJson(*view));
  return kExitOk;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"fundledger: a tamper-evident ledger for public money"};
  app.require_subcommand(1);
  std::string dir;
  auto add_data = [&](CLI::App* cmd) {
    cmd->add_option("--data", dir, "ledger data directory")->required();
  };

  std::string origin;
  CLI::App* init = app.add_subcommand("init", "create a ledger: store, signing key and genesis entry");
  add_data(init);
  init->add_option("--origin", origin, "the log's name, e.g. ledger.civil-affairs.example.cn")->required();

  CLI::App* checkpoint = app.add_subcommand("checkpoint", "print the latest signed checkpoint note");
  add_data(checkpoint);
  CLI::App* key = app.add_subcommand("key", "print the verifier key (vkey)");
  add_data(key);

  std::string vkey;
  CLI::App* verify = app.add_subcommand("verify", "verify the whole chain, tree and checkpoints");
  add_data(verify);
  verify->add_option("--vkey", vkey, "trust this verifier key instead of the log's own genesis");

  CLI::App* prove = app.add_subcommand("prove", "print an inclusion or consistency proof as JSON");
  prove->require_subcommand(1);
  uint64_t index = 0, old_size = 0, size = 0;
  CLI::App* inclusion = prove->add_subcommand("inclusion", "proof that entry INDEX is in the tree");
  add_data(inclusion);
  inclusion->add_option("--index", index, "entry index")->required();
  CLI::Option* inclusion_size = inclusion->add_option("--size", size, "tree size (default: latest checkpoint)");
  CLI::App* consistency = prove->add_subcommand("consistency", "proof that the tree only grew from OLD");
  add_data(consistency);
  consistency->add_option("--old", old_size, "the earlier tree size")->required();
  CLI::Option* consistency_size = consistency->add_option("--size", size, "tree size (default: latest checkpoint)");

  CLI::App* entry = app.add_subcommand("entry", "print one entry as JSON, with its raw bytes");
  add_data(entry);
  entry->add_option("--index", index, "entry index")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUnusable;
  }
  auto optional_size = [&](CLI::Option* opt) {
    return opt->count() > 0 ? std::optional<uint64_t>(size) : std::nullopt;
  };
  if (init->parsed()) return CmdInit(dir, origin);
  if (checkpoint->parsed()) return CmdCheckpoint(dir);
  if (key->parsed()) return CmdKey(dir);
  if (verify->parsed()) return CmdVerify(dir, vkey);
  if (inclusion->parsed()) return CmdProveInclusion(dir, index, optional_size(inclusion_size));
  if (consistency->parsed()) return CmdProveConsistency(dir, old_size, optional_size(consistency_size));
  if (entry->parsed()) return CmdEntry(dir, index);
  return kExitUnusable;
}

}  // namespace fundledger
