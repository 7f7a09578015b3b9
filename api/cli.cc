#include "api/cli.h"

#include <fmt/core.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>

#include "api/cli_audit.h"
#include "api/cli_service.h"
#include "api/entry_json.h"
#include "crypto/checkpoint.h"
#include "crypto/key_file.h"
#include "ledger/ledger.h"
#include "ledger/log.h"
#include "projections/projections.h"
#include "replay/chain_verifier.h"
#include "replay/rebuild.h"
#include "replay/snapshot.h"

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
  // The whole ledger, not only its log: the vault key and the projections' rows too, so that
  // serve, post and import work on it at once.
  Projections projections;
  Result<std::unique_ptr<Ledger>> ledger =
      Ledger::Create(dir, origin, WithProjections(projections, {}));
  if (!ledger.ok()) return Fail(ledger.status());
  const Log& log = (*ledger)->log();
  Result<std::string> note = log.LatestCheckpoint();
  if (!note.ok()) return Fail(note.status());
  fmt::print("initialised ledger {} at {}\nkey: {}\n\n{}", origin, dir, log.vkey(), *note);
  Status closed = (*ledger)->Close();
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

int CmdVerify(const std::string& dir, const std::string& vkey, unsigned threads) {
  VerifyOptions options;
  options.threads = threads;
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
  fmt::print(
      "valid: {} entries, root {}, {} signed checkpoints (latest at size {})\norigin: {}\nkey: "
      "{}\n",
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

int CmdProveConsistency(const std::string& dir, uint64_t old_size,
                        std::optional<uint64_t> size_opt) {
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

// Writes rebuilt projection rows into the store in batches.
class RepairSink final : public KeyValueSink {
 public:
  explicit RepairSink(Log& log) : log_(log) {}
  void Put(std::string_view key, std::string_view value) override {
    batch_.Put(log_.projections_column(), rocksdb::Slice(key.data(), key.size()),
               rocksdb::Slice(value.data(), value.size()));
    if (batch_.Count() >= 100'000) status_ = Flush();
  }
  Status Flush() {
    if (batch_.Count() == 0) return status_;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = log_.db()->Write(wo, &batch_);
    batch_.Clear();
    if (!s.ok()) return IoError("cannot write projections: " + s.ToString());
    return status_;
  }

 private:
  Log& log_;
  rocksdb::WriteBatch batch_;
  Status status_;
};

int CmdReplay(const std::string& dir, std::optional<uint64_t> to_index, bool repair,
              const std::string& snapshot) {
  RebuildOptions options;
  options.to_index = to_index;
  options.snapshot_path = snapshot;
  if (repair && !snapshot.empty())
    return Fail(InvalidArgument("--repair replays from entry 0; it takes no --from-snapshot"));
  bool tty = ::isatty(STDERR_FILENO);
  if (tty)
    options.progress = [](uint64_t done) { fmt::print(stderr, "\rreplayed {} entries", done); };
  std::unique_ptr<Log> log;
  std::optional<RepairSink> sink;
  if (repair) {
    if (to_index) return Fail(InvalidArgument("--repair rebuilds the whole log; it takes no --to"));
    Result<std::unique_ptr<Log>> opened = Log::Open(dir);  // exclusive: no server may run
    if (!opened.ok()) return Fail(opened.status());
    log = std::move(opened).value();
    std::string begin(1, '\0'), end(1, '\xff');
    rocksdb::Status s = log->db()->DeleteRange(rocksdb::WriteOptions(), log->projections_column(),
                                               begin, end + end);
    if (!s.ok()) return Fail(IoError("cannot clear projections: " + s.ToString()));
    sink.emplace(*log);
    options.sink = &*sink;
  } else {
    Result<std::unique_ptr<Log>> opened = OpenReadOnly(dir, /*check_tail=*/false);
    if (!opened.ok()) return Fail(opened.status());
    log = std::move(opened).value();
  }
  RebuildReport r = RebuildProjections(*log, options);
  if (tty) fmt::print(stderr, "\n");
  if (r.verify.unusable) return Fail(Corruption(r.verify.reason));
  if (r.snapshot_size > 0)
    fmt::print("from snapshot at {} entries; verified the tail\n", r.snapshot_size);
  if (!r.verify.valid) {
    fmt::print("INVALID at entry {}: {}\n", r.verify.bad_index, r.verify.reason);
    return kExitFailed;
  }
  if (sink) {
    Status flushed = sink->Flush();
    if (!flushed.ok()) return Fail(flushed);
  }
  fmt::print("replayed {} of {} entries; chain valid\nprojection digest: {} ({} rows)\n", r.applied,
             r.verify.size, HashHex(r.digest), r.rows);
  fmt::print("sum of all balances: {} (double entry {})\n", FormatFen(r.sum_of_balances),
             r.sum_of_balances == 0 ? "holds" : "BROKEN");
  for (const auto& [account, b] : r.fund_balances) {
    fmt::print("  {:<40} posted {:>16}  pending {:>14}\n", account, FormatFen(b.posted_fen),
               FormatFen(b.pending_fen));
  }
  if (!to_index && !repair) {
    Result<std::pair<Hash, uint64_t>> stored = Projections::StoredDigest(*log);
    if (!stored.ok()) return Fail(stored.status());
    bool same = stored->first == r.digest && stored->second == r.rows;
    fmt::print("stored projections: {} ({} rows): {}\n", HashHex(stored->first), stored->second,
               same ? "identical to the replay" : "DIFFER from the replay (run replay --repair)");
    if (!same) return kExitFailed;
  }
  if (repair) fmt::print("projections rebuilt from the log\n");
  return r.sum_of_balances == 0 ? kExitOk : kExitFailed;
}

// Parses --as-of: an entry index, or a UTC time "2025-03-31T23:59:59Z" / "2025-03-31".
Result<uint64_t> AsOfIndex(const Log& log, const std::string& as_of) {
  if (!as_of.empty() &&
      std::all_of(as_of.begin(), as_of.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::stoull(as_of);
  }
  std::tm tm{};
  const char* end = strptime(as_of.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) end = strptime(as_of.c_str(), "%Y-%m-%d", &tm);
  if (end == nullptr || (*end != '\0' && std::string_view(end) != "Z")) {
    return InvalidArgument(
        "--as-of takes an entry index or a UTC time like 2025-03-31T23:59:59Z, got '" + as_of +
        "'");
  }
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000 + 999;
  return log.IndexAtTime(ms);
}

int CmdBalance(const std::string& dir, const std::string& fund, const std::string& as_of) {
  Projections projections;
  LedgerOptions options = WithSnapshots(dir, projections, WithProjections(projections, {}));
  options.log.read_only = true;
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(dir, options);
  if (!ledger.ok()) return Fail(ledger.status());
  std::optional<std::map<std::string, Balance>> current = (*ledger)->domain().Read(
      [&](const DomainState& s) -> std::optional<std::map<std::string, Balance>> {
        if (!s.funds.count(fund)) return std::nullopt;
        return projections.BalancesWithPrefix(s, FundAccount(fund, ""));
      });
  if (!current) return Fail(NotFound("fund '" + fund + "' does not exist"));
  std::map<std::string, Balance> balances = std::move(*current);
  std::string when = "now (entry " + std::to_string((*ledger)->log().size() - 1) + ")";
  if (!as_of.empty()) {
    Result<uint64_t> index = AsOfIndex((*ledger)->log(), as_of);
    if (!index.ok()) return Fail(index.status());
    when = "as of entry " + std::to_string(*index);
    for (auto& [account, b] : balances) {
      Result<Balance> past = Projections::BalanceAsOf((*ledger)->log(), account, *index);
      if (!past.ok()) return Fail(past.status());
      b = *past;
    }
  }
  fmt::print("fund {} {}\n", fund, when);
  fmt::print("  {:<24} {:>16} {:>16} {:>16}\n", "bucket", "posted", "pending", "available");
  int64_t posted = 0, pending = 0;
  for (const auto& [account, b] : balances) {
    fmt::print("  {:<24} {:>16} {:>16} {:>16}\n", account.substr(FundAccount(fund, "").size()),
               FormatFen(b.posted_fen), FormatFen(b.pending_fen), FormatFen(b.available_fen()));
    posted += b.posted_fen;
    pending += b.pending_fen;
  }
  fmt::print("  {:<24} {:>16} {:>16} {:>16}\n", "total", FormatFen(posted), FormatFen(pending),
             FormatFen(posted - pending));
  return kExitOk;
}

int CmdSnapshot(const std::string& dir) {
  Projections projections;
  LedgerOptions options = WithSnapshots(dir, projections, WithProjections(projections, {}));
  options.log.read_only = true;  // may run beside a server
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(dir, options);
  if (!ledger.ok()) return Fail(ledger.status());
  Result<NoteSigner> signer = ReadSignerKeyFile(SigningKeyPath(dir));
  if (!signer.ok()) return Fail(signer.status());
  Result<SnapshotInfo> info =
      WriteSnapshot(dir, (*ledger)->log(), *signer, (*ledger)->domain(), projections);
  if (!info.ok()) return Fail(info.status());
  fmt::print("snapshot of {} entries written to {}\n", info->size, info->path);
  return kExitOk;
}

int CmdErase(const std::string& dir, const std::string& subject, const std::string& reason,
             const std::string& actor, const std::string& vault_key) {
  LedgerOptions options;
  options.vault_key_path = vault_key;
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(dir, options);
  if (!ledger.ok()) return Fail(ledger.status());
  Result<AppendResult> r =
      (*ledger)->Erase(Actor{actor, fb::Role::admin}, "erase:" + subject, subject, reason);
  if (!r.ok()) return Fail(r.status());
  fmt::print("erased the personal data of {}; Erased entry {}\n", subject, r->first_index);
  Status closed = (*ledger)->Close();
  return closed.ok() ? kExitOk : Fail(closed);
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
  CLI::App* init =
      app.add_subcommand("init", "create a ledger: store, signing key and genesis entry");
  add_data(init);
  init->add_option("--origin", origin, "the log's name, e.g. ledger.civil-affairs.example.cn")
      ->required();

  CLI::App* checkpoint =
      app.add_subcommand("checkpoint", "print the latest signed checkpoint note");
  add_data(checkpoint);
  CLI::App* key = app.add_subcommand("key", "print the verifier key (vkey)");
  add_data(key);

  std::string vkey;
  CLI::App* verify = app.add_subcommand("verify", "verify the whole chain, tree and checkpoints");
  add_data(verify);
  verify->add_option("--vkey", vkey, "trust this verifier key instead of the log's own genesis");
  unsigned verify_threads = 0;
  verify
      ->add_option("--threads", verify_threads,
                   "threads that check the log's chunks (default: one per core)")
      ->check(CLI::Range(0u, 256u));

  CLI::App* prove = app.add_subcommand("prove", "print an inclusion or consistency proof as JSON");
  prove->require_subcommand(1);
  uint64_t index = 0, old_size = 0, size = 0;
  CLI::App* inclusion = prove->add_subcommand("inclusion", "proof that entry INDEX is in the tree");
  add_data(inclusion);
  inclusion->add_option("--index", index, "entry index")->required();
  CLI::Option* inclusion_size =
      inclusion->add_option("--size", size, "tree size (default: latest checkpoint)");
  CLI::App* consistency =
      prove->add_subcommand("consistency", "proof that the tree only grew from OLD");
  add_data(consistency);
  consistency->add_option("--old", old_size, "the earlier tree size")->required();
  CLI::Option* consistency_size =
      consistency->add_option("--size", size, "tree size (default: latest checkpoint)");

  CLI::App* entry = app.add_subcommand("entry", "print one entry as JSON, with its raw bytes");
  add_data(entry);
  entry->add_option("--index", index, "entry index")->required();

  std::optional<uint64_t> to_index;
  bool repair = false;
  CLI::App* replay = app.add_subcommand(
      "replay", "rebuild every projection from the log, verifying it, and compare");
  add_data(replay);
  replay->add_option("--to", to_index, "apply entries up to this index only");
  replay->add_flag("--repair", repair,
                   "rewrite the stored projections from the log (ledger must be stopped)");
  std::string snapshot_path;
  replay->add_option("--from-snapshot", snapshot_path,
                     "start from this snapshot and verify and replay only the tail");

  CLI::App* snapshot = app.add_subcommand(
      "snapshot", "save the state at the current size so opening replays only the tail");
  add_data(snapshot);

  std::string fund, as_of;
  CLI::App* balance =
      app.add_subcommand("balance", "a fund's balance per bucket, now or as of an entry or time");
  add_data(balance);
  balance->add_option("--fund", fund, "fund id")->required();
  balance->add_option("--as-of", as_of, "entry index, or UTC time 2025-03-31T23:59:59Z");

  std::string subject, reason, actor = "admin";
  CLI::App* erase =
      app.add_subcommand("erase", "destroy a person's personal data (the log still verifies)");
  add_data(erase);
  erase->add_option("--beneficiary", subject, "beneficiary id (or donor:<id>)")->required();
  erase->add_option("--reason", reason, "why, e.g. the request reference")->required();
  erase->add_option("--actor", actor, "who is erasing");
  std::string vault_key;
  erase->add_option("--vault-key", vault_key, "the vault master key file (default DIR/vault.key)");

  ServeFlags serve_flags;
  CLI::App* serve =
      app.add_subcommand("serve", "run the HTTP/JSON API (SIGTERM or Ctrl-C stops it cleanly)");
  serve->add_option("--data", serve_flags.dir, "ledger data directory")->required();
  serve->add_option("--listen", serve_flags.server.listen, "HOST:PORT (port 0: any free port)");
  serve->add_option("--tls-cert", serve_flags.server.tls_cert_file,
                    "PEM certificate chain: serve HTTPS");
  serve->add_option("--tls-key", serve_flags.server.tls_key_file, "PEM private key");
  serve->add_option("--io-threads", serve_flags.server.io_threads, "socket threads")
      ->check(CLI::Range(1, 64));
  serve->add_flag("--public-log", serve_flags.public_log,
                  "entries, proofs and tiles readable without a token");
  serve->add_option("--vault-key", serve_flags.vault_key,
                    "the vault master key file (default DIR/vault.key)");
  serve->add_flag("--quiet", serve_flags.quiet, "no request log lines");
  serve
      ->add_option("--checkpoint-interval-ms", serve_flags.checkpoint_interval_ms,
                   "sign a checkpoint at most this often, and within this long of a commit "
                   "(default 0: every commit)")
      ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}));
  size_t body_mib = serve_flags.server.body_bytes_max >> 20;
  serve->add_option("--max-body-mib", body_mib, "largest request body in MiB (default 256)")
      ->check(CLI::Range(1, 4096));

  CLI::App* token = app.add_subcommand("token", "manage bearer tokens");
  token->require_subcommand(1);
  std::string token_actor, token_role, token_org, token_id;
  CLI::App* token_add = token->add_subcommand("add", "create a token and print it once");
  add_data(token_add);
  token_add->add_option("--actor", token_actor, "who the token stands for")->required();
  token_add->add_option("--role", token_role, "admin, maker, checker, auditor, charity or public")
      ->required();
  token_add->add_option("--org", token_org,
                        "charity tokens: the organisation whose funds they may use");
  CLI::App* token_revoke =
      token->add_subcommand("revoke", "revoke a token by id, or every token of an actor");
  add_data(token_revoke);
  token_revoke->add_option("id_or_actor", token_id, "token id (from token list) or actor")
      ->required();
  CLI::App* token_list =
      token->add_subcommand("list", "list tokens (ids, roles, actors; never the tokens)");
  add_data(token_list);

  ImportFlags import_flags;
  CLI::App* import = app.add_subcommand(
      "import", "prepare a disbursement batch from a roll file (CSV or JSON lines)");
  import->add_option("file", import_flags.file, "roll.csv or roll.jsonl")->required();
  import->add_option("--data", import_flags.dir, "ledger data directory")->required();
  import->add_option("--fund", import_flags.fund, "fund paying the roll")->required();
  import->add_option("--period", import_flags.period, "YYYY-MM")->required();
  import->add_option("--bucket", import_flags.bucket, "bucket (default general)");
  import->add_option("--batch-id", import_flags.batch_id,
                     "batch id (default ROLL-<fund>-<period>)");
  import->add_option("--actor", import_flags.actor, "the clerk preparing it");
  import->add_option("--vault-key", import_flags.vault_key, "the vault master key file");

  std::string export_what, export_period;
  CLI::App* exp = app.add_subcommand(
      "export", "CSV of balances, payments of a period, or beneficiaries (pseudonymous)");
  add_data(exp);
  exp->add_option("what", export_what, "balances | payments | beneficiaries")->required();
  exp->add_option("--period", export_period, "YYYY-MM (payments)");

  std::string post_type, post_json, post_actor = "admin", post_role = "admin", post_key;
  CLI::App* post = app.add_subcommand(
      "post", "append one event from JSON (the body the API takes), with the rules applied");
  add_data(post);
  post->add_option("event", post_type, "event type, e.g. Appropriated")->required();
  post->add_option("--json", post_json, "the event's fields as a JSON object")->required();
  post->add_option("--actor", post_actor, "who posts it");
  post->add_option("--role", post_role, "their role");
  post->add_option("--key", post_key, "idempotency key")->required();

  CLI::App* audit = app.add_subcommand(
      "audit", "audit bundles: export from a ledger; verify and prove with no database");
  audit->require_subcommand(1);
  std::string audit_out, audit_bundle, trusted_checkpoint, audit_vkey, audit_checkpoint;
  uint64_t audit_from = 0, audit_index = 0;
  std::optional<uint64_t> audit_to;
  bool audit_json = false;
  CLI::App* audit_export =
      audit->add_subcommand("export", "write a self-contained bundle (C2SP tlog-tiles layout)");
  add_data(audit_export);
  audit_export->add_option("--out", audit_out, "bundle directory to create")->required();
  audit_export->add_option("--from", audit_from, "first entry (rounded down to a multiple of 256)");
  audit_export->add_option("--to", audit_to, "end of the range (default: the latest checkpoint)");
  CLI::App* audit_verify = audit->add_subcommand(
      "verify", "verify a bundle: entries, chain, tree, checkpoints, consistency");
  audit_verify->add_option("bundle", audit_bundle, "bundle directory")->required();
  audit_verify->add_option("--trusted-checkpoint", trusted_checkpoint,
                           "a checkpoint you kept from an earlier visit");
  audit_verify->add_option("--vkey", audit_vkey, "the verifier key you trust");
  std::string checks_format = "table";
  int idle_days = 180;
  CLI::App* audit_checks = audit->add_subcommand(
      "checks", "anomaly checks: duplicates, payments after death, misuse, ratios, disclosures");
  audit_checks->add_option("--data", dir, "ledger data directory");
  audit_checks->add_option("--bundle", audit_bundle, "or an audit bundle");
  audit_checks->add_option("--format", checks_format, "table | json | csv");
  audit_checks
      ->add_option("--idle-days", idle_days, "report fund money untouched for longer than this")
      ->check(CLI::Range(1, 36500));
  CLI::App* audit_prove = audit->add_subcommand(
      "prove", "inclusion proof of one entry against a checkpoint, for a working paper");
  audit_prove->add_option("--bundle", audit_bundle, "bundle directory")->required();
  audit_prove->add_option("--index", audit_index, "entry index")->required();
  audit_prove->add_option("--checkpoint", audit_checkpoint,
                          "checkpoint file (default: the bundle's)");
  audit_prove->add_flag("--json", audit_json, "JSON instead of text");

  DiscloseFlags disclose_flags;
  CLI::App* disclose = app.add_subcommand(
      "disclose", "a disclosure report of a fund, organisation or lottery project");
  disclose->add_option("--data", disclose_flags.dir, "ledger data directory")->required();
  disclose->add_option("--fund", disclose_flags.fund, "fund id");
  disclose->add_option("--org", disclose_flags.org, "organisation id");
  disclose->add_option("--project", disclose_flags.project, "lottery project (bucket) id");
  disclose->add_option("--period", disclose_flags.period, "2025 or 2025-Q1");
  disclose->add_option("--format", disclose_flags.format, "json | csv | html");
  disclose->add_option("--lang", disclose_flags.lang, "zh | en (html)");
  disclose->add_flag("--list", disclose_flags.list, "list the funds and organisations, id first");

  DemoFlags demo_flags;
  CLI::App* demo = app.add_subcommand(
      "demo", "create a ledger holding a reproducible demo city and one token per role");
  demo->add_option("--data", demo_flags.dir, "ledger data directory (must not exist)")->required();
  demo->add_option("--origin", demo_flags.origin, "log origin");
  demo->add_option("--seed", demo_flags.seed, "random seed");
  demo->add_option("--people", demo_flags.people, "beneficiaries")
      ->check(CLI::Range(10, 1'000'000));
  demo->add_option("--months", demo_flags.months, "months from 2025-01")->check(CLI::Range(1, 12));

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
  if (verify->parsed()) return CmdVerify(dir, vkey, verify_threads);
  if (inclusion->parsed()) return CmdProveInclusion(dir, index, optional_size(inclusion_size));
  if (consistency->parsed())
    return CmdProveConsistency(dir, old_size, optional_size(consistency_size));
  if (entry->parsed()) return CmdEntry(dir, index);
  if (replay->parsed()) return CmdReplay(dir, to_index, repair, snapshot_path);
  if (snapshot->parsed()) return CmdSnapshot(dir);
  if (serve->parsed()) {
    serve_flags.server.body_bytes_max = body_mib << 20;
    return CmdServe(serve_flags);
  }
  if (token_add->parsed()) return CmdTokenAdd(dir, token_actor, token_role, token_org);
  if (token_revoke->parsed()) return CmdTokenRevoke(dir, token_id);
  if (token_list->parsed()) return CmdTokenList(dir);
  if (import->parsed()) return CmdImport(import_flags);
  if (exp->parsed()) return CmdExport(dir, export_what, export_period);
  if (demo->parsed()) return CmdDemo(demo_flags);
  if (audit_export->parsed()) return CmdAuditExport(dir, audit_out, audit_from, audit_to);
  if (audit_verify->parsed()) return CmdAuditVerify(audit_bundle, trusted_checkpoint, audit_vkey);
  if (audit_checks->parsed()) return CmdAuditChecks(dir, audit_bundle, checks_format, idle_days);
  if (audit_prove->parsed())
    return CmdAuditProve(audit_bundle, audit_index, audit_checkpoint, audit_json);
  if (disclose->parsed()) return CmdDisclose(disclose_flags);
  if (post->parsed()) return CmdPost(dir, post_type, post_json, post_actor, post_role, post_key);
  if (balance->parsed()) return CmdBalance(dir, fund, as_of);
  if (erase->parsed()) return CmdErase(dir, subject, reason, actor, vault_key);
  return kExitUnusable;
}

}  // namespace fundledger
