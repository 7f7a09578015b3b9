#include "api/cli_audit.h"

#include <fmt/core.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "api/cli_exit.h"
#include "api/cli_ledger.h"
#include "api/entry_json.h"
#include "api/event_json.h"
#include "ledger/log.h"
#include "projections/fund_balances.h"
#include "replay/anomaly_checks.h"
#include "replay/bundle.h"
#include "witness/witness_policy.h"

namespace fundledger {
namespace {

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Whether the bundle's latest checkpoint is published under `policy`: signed by the log and
// cosigned by the policy's quorum of witnesses. Prints who cosigned.
Status CheckPublished(const std::string& bundle, const WitnessPolicy& policy) {
  FL_ASSIGN_OR_RETURN(std::unique_ptr<BundleSource> source, BundleSource::Open(bundle));
  FL_ASSIGN_OR_RETURN(std::string note, source->LatestCheckpoint());
  FL_ASSIGN_OR_RETURN(PublishedCheckpoint published, CheckPolicy(note, policy));
  std::string names;
  for (const WitnessTimestamp& w : published.cosigned_by)
    names += (names.empty() ? "" : ", ") + w.name;
  fmt::print("published under the policy (quorum {}): checkpoint of size {}, cosigned by {}\n",
             policy.quorum_name(), published.checkpoint.size, names.empty() ? "no witness" : names);
  return Status::Ok();
}

}  // namespace

int CmdAuditExport(const std::string& dir, const std::string& out, uint64_t from,
                   std::optional<uint64_t> to) {
  Result<std::unique_ptr<Log>> log = OpenLogReadOnly(dir);
  if (!log.ok()) return ExitFailure(log.status());
  bool tty = ::isatty(STDERR_FILENO);
  Result<BundleManifest> m = ExportBundle(**log, out, from, to, [&](uint64_t done) {
    if (tty && done % 25'600 == 0) fmt::print(stderr, "\rexported {} entries", done);
  });
  if (tty) fmt::print(stderr, "\n");
  if (!m.ok()) return ExitFailure(m.status());
  fmt::print("bundle of entries {}..{} ({} signed checkpoints) written to {}\nkey: {}\n", m->from,
             m->to - 1, m->checkpoints.size(), out, m->vkey);
  return 0;
}

namespace {

// The key an auditor trusts, from --vkey or from the log line of a --policy whose name is the
// bundle's origin; both given must agree. A bundle's own key proves nothing about who wrote it.
Result<NoteVerifier> TrustedKey(const std::string& bundle, const std::string& vkey,
                                const WitnessPolicy* policy) {
  std::optional<NoteVerifier> key;
  if (!vkey.empty()) {
    FL_ASSIGN_OR_RETURN(NoteVerifier k, ParseVerifierKey(vkey));
    key = k;
  }
  if (policy != nullptr) {
    FL_ASSIGN_OR_RETURN(std::unique_ptr<BundleSource> source, BundleSource::Open(bundle));
    const std::string& origin = source->manifest().origin;
    const PolicyLog* named = nullptr;
    for (const PolicyLog& log : policy->logs()) {
      if (log.key.name == origin) named = &log;
    }
    if (named == nullptr) {
      return InvalidArgument("the policy names no log '" + origin +
                             "' (its log lines name the keys it trusts)")
          .WithField("policy");
    }
    if (key && (key->key_id != named->key.key_id ||
                key->key.public_key() != named->key.key.public_key())) {
      return InvalidArgument("--vkey and the policy's log key for '" + origin + "' differ")
          .WithField("vkey");
    }
    key = named->key;
  }
  if (!key) {
    return InvalidArgument(
        "audit verify needs the key you trust: --vkey KEY (the log's verifier key as the bureau "
        "publishes it) or --policy FILE (a C2SP tlog-policy naming the log's key and the "
        "witnesses that must cosign); the key inside the bundle proves nothing about who wrote "
        "it");
  }
  return *key;
}

}  // namespace

int CmdAuditVerify(const std::string& bundle, const std::string& trusted_file,
                   const std::string& vkey, const std::string& policy_file) {
  BundleVerifyOptions options;
  std::optional<WitnessPolicy> policy;
  if (!policy_file.empty()) {
    Result<WitnessPolicy> read = WitnessPolicy::ReadFile(policy_file);
    if (!read.ok()) return ExitFailure(Status(read.status()).WithField("policy"));
    policy = std::move(read).value();
  }
  Result<NoteVerifier> key = TrustedKey(bundle, vkey, policy ? &*policy : nullptr);
  if (!key.ok()) return ExitFailure(key.status());
  options.trusted_key = *key;
  if (!trusted_file.empty()) {
    Result<std::string> text = ReadText(trusted_file);
    if (!text.ok()) return ExitFailure(text.status());
    options.trusted_checkpoint = *text;
  }
  bool tty = ::isatty(STDERR_FILENO);
  if (tty)
    options.progress = [](uint64_t done) { fmt::print(stderr, "\rverified {} entries", done); };
  BundleVerifyReport r = VerifyBundle(bundle, options);
  if (tty) fmt::print(stderr, "\n");
  if (r.status == VerifyStatus::kUnusable) {
    fmt::print(stderr, "error: unusable bundle: {}\n", r.reason);
    return 2;
  }
  if (r.status == VerifyStatus::kInvalid) {
    fmt::print("INVALID at entry {}: {}\n", r.bad_index, r.reason);
    return 1;
  }
  fmt::print("valid: entries {}..{}, root {}\n", r.from, r.to - 1, HashHex(r.root));
  fmt::print("{} signed checkpoints verified, {} consistency proofs checked{}\n", r.checkpoints,
             r.consistency_proofs, trusted_file.empty() ? "" : " (including from your checkpoint)");
  fmt::print("origin: {}\nkey: {}\n", r.origin, r.vkey);
  if (policy) {
    Status published = CheckPublished(bundle, *policy);
    if (!published.ok()) {
      fmt::print("NOT PUBLISHED under the policy: {}\n", published.message());
      return 1;
    }
  }
  if (r.rebuilt) {
    fmt::print("projection digest: {} ({} rows)\n", HashHex(r.rebuilt->digest), r.rebuilt->rows);
    fmt::print("sum of all balances: {} (double entry {})\n", FormatFen(r.rebuilt->sum_of_balances),
               r.rebuilt->sum_of_balances == 0 ? "holds" : "BROKEN");
    for (const auto& [account, b] : r.rebuilt->fund_balances) {
      fmt::print("  {:<40} posted {:>16}  pending {:>14}\n", account, FormatFen(b.posted_fen),
                 FormatFen(b.pending_fen));
    }
  } else {
    fmt::print("the bundle starts at entry {}: balances need the whole log\n", r.from);
  }
  return 0;
}

Status ChecksAsOf(const LogSource& source, const std::string& text, std::string_view name,
                  AnomalyOptions& options) {
  FL_ASSIGN_OR_RETURN(AsOf as_of, ParseAsOf(text, name));
  if (as_of.kind == AsOf::Kind::kTime) options.as_of_ms = as_of.timestamp_ms;
  if (as_of.kind != AsOf::Kind::kIndex) return Status::Ok();
  if (as_of.index >= source.size())
    return NotFound(std::string(name) + ": entry " + std::to_string(as_of.index) +
                    " is not in the log")
        .WithField(std::string(name));
  options.entries_max = as_of.index + 1;
  return source.ScanEntries(as_of.index, as_of.index + 1, [&](uint64_t, ByteView bytes) -> Status {
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    options.as_of_ms = e.timestamp_ms;
    return Status::Ok();
  });
}

int CmdAuditChecks(const std::string& dir, const std::string& bundle_dir, const std::string& format,
                   int idle_days, const std::string& as_of, const std::string& lang) {
  if (dir.empty() == bundle_dir.empty())
    return ExitFailure(InvalidArgument("audit checks takes --data DIR or --bundle DIR"));
  if (lang != "en" && lang != "zh")
    return ExitFailure(InvalidArgument("--lang takes zh or en").WithField("--lang"));
  const FindingsLanguage language = lang == "zh" ? FindingsLanguage::kZh : FindingsLanguage::kEn;
  AnomalyOptions options;
  options.idle_days = idle_days;
  std::unique_ptr<Log> log;
  std::unique_ptr<BundleSource> bundle;
  const LogSource* source = nullptr;
  if (!dir.empty()) {
    Result<std::unique_ptr<Log>> opened = OpenLogReadOnly(dir);
    if (!opened.ok()) return ExitFailure(opened.status());
    log = std::move(opened).value();
    source = log.get();
  } else {
    Result<std::unique_ptr<BundleSource>> opened = BundleSource::Open(bundle_dir);
    if (!opened.ok()) return ExitFailure(opened.status());
    bundle = std::move(opened).value();
    if (bundle->manifest().from != 0)
      return ExitFailure(InvalidArgument("anomaly checks need a bundle that starts at entry 0"));
    source = bundle.get();
  }
  if (Status read = ChecksAsOf(*source, as_of, "--as-of", options); !read.ok())
    return ExitFailure(read);
  Result<std::vector<Finding>> findings = RunAnomalyChecks(*source, options);
  if (!findings.ok()) return ExitFailure(findings.status());
  if (format == "json") {
    fmt::print("{}", FindingsJson(*findings));
  } else if (format == "csv") {
    fmt::print("{}", FindingsCsv(*findings, language));
  } else if (format == "table") {
    fmt::print("{}", FindingsTable(*findings, language));
  } else {
    return ExitFailure(InvalidArgument("--format takes table, json or csv"));
  }
  return 0;
}

int CmdAuditProve(const std::string& bundle_dir, uint64_t index, const std::string& checkpoint_file,
                  bool as_json) {
  Result<std::unique_ptr<BundleSource>> bundle = BundleSource::Open(bundle_dir);
  if (!bundle.ok()) return ExitFailure(bundle.status());
  Result<NoteVerifier> key = ParseVerifierKey((*bundle)->manifest().vkey);
  if (!key.ok()) return ExitFailure(key.status());
  Result<std::string> note =
      checkpoint_file.empty() ? (*bundle)->LatestCheckpoint() : ReadText(checkpoint_file);
  if (!note.ok()) return ExitFailure(note.status());
  Result<Checkpoint> cp = OpenCheckpoint(*note, *key);
  if (!cp.ok()) return ExitFailure(Status(cp.status()).WithField("checkpoint"));
  if (index >= cp->size)
    return ExitFailure(InvalidArgument("entry " + std::to_string(index) +
                                       " is not in the tree of the checkpoint (size " +
                                       std::to_string(cp->size) + ")"));
  Bytes entry;
  Status read = (*bundle)->ScanEntries(index, index + 1, [&](uint64_t, ByteView b) {
    entry.assign(b.begin(), b.end());
    return Status::Ok();
  });
  if (!read.ok()) return ExitFailure(read);
  Hash leaf = HashLeaf(entry);
  Result<std::vector<Hash>> proof = InclusionProof(**bundle, index, cp->size);
  if (!proof.ok()) return ExitFailure(proof.status());
  Status verified = VerifyInclusion(index, cp->size, leaf, *proof, cp->root);
  Result<boost::json::object> view = EntryToJson(index, entry);
  if (!view.ok()) return ExitFailure(view.status());
  Result<EntryView> e = DecodeEntry(entry);
  if (!e.ok()) return ExitFailure(e.status());
  Result<std::string> payload_json = PayloadToJson(e->event_type, e->payload);
  std::string payload =
      payload_json.ok() ? *payload_json : "(" + payload_json.status().message() + ")";
  if (as_json) {
    boost::json::object o = InclusionProofJson(index, cp->size, leaf, *proof, cp->root);
    o["verified"] = verified.ok();
    o["checkpoint"] = *note;
    o["entry"] = *view;
    fmt::print("{}", PrettyJson(o));
    return verified.ok() ? kExitOk : kExitFailed;
  }
  fmt::print("INCLUSION PROOF — working paper\n");
  fmt::print("log:            {}\nverifier key:   {}\n", key->name, FormatVerifierKey(*key));
  fmt::print("checkpoint:     size {}, root {}\n", cp->size, HashHex(cp->root));
  fmt::print("entry:          {} ({}, {} by {} as {})\n", index, EventTypeName(e->event_type),
             IsoTimeMs(e->timestamp_ms), e->actor, RoleName(e->role));
  fmt::print("payload:        {}\n", payload);
  fmt::print("leaf hash:      SHA-256(0x00 || entry bytes) = {}\n", HashHex(leaf));
  for (size_t i = 0; i < proof->size(); ++i)
    fmt::print("proof[{:2}]:      {}\n", i, HashHex((*proof)[i]));
  fmt::print("result:         {}\n",
             verified.ok()
                 ? "VERIFIED: the entry is in the log the checkpoint signs (RFC 9162 2.1.3.2)"
                 : "NOT VERIFIED: " + verified.message());
  fmt::print("\nsigned checkpoint:\n{}", *note);
  return verified.ok() ? kExitOk : kExitFailed;
}

}  // namespace fundledger
