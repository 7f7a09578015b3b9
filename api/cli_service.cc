#include "api/cli_service.h"

#include <fmt/core.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "api/actor_name.h"
#include "api/checkpoint_publisher.h"
#include "api/cli_backup.h"
#include "api/cli_exit.h"
#include "api/cli_keys.h"
#include "api/cli_ledger.h"
#include "api/demo.h"
#include "api/disclosure_publication.h"
#include "api/disclosure_render.h"
#include "api/event_json.h"
#include "api/http_witness_transport.h"
#include "api/open_data.h"
#include "api/roll_parser.h"
#include "api/roll_resolver.h"
#include "api/service.h"
#include "api/shared_file.h"
#include "api/staff_accounts.h"
#include "api/vault_rows_file.h"
#include "crypto/key_file.h"
#include "ledger/log_clock.h"
#include "replay/snapshot.h"
#include "replay/store_scrub.h"

namespace fundledger {
namespace {

std::string CsvField(std::string_view v) {
  if (v.find_first_of(",\"\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Everything serve trusts must be this user's own and writable by no one else: whoever else
// can write the data directory, a key or the token table can act as anyone.
Status CheckServedFiles(const ServeFlags& flags) {
  FL_RETURN_IF_ERROR(CheckPrivateDirectory(flags.dir, "the data directory"));
  const std::string vault_key = ResolveVaultKey(flags.dir, flags.vault_key).path;
  for (const auto& [path, what] :
       {std::pair<std::string, std::string_view>{SigningKeyPath(flags.dir), "the signing key"},
        {vault_key, "the vault key"},
        {flags.dir + "/tokens", "the token table"}}) {
    if (std::filesystem::exists(path)) FL_RETURN_IF_ERROR(CheckSecretFile(path, what));
  }
  for (const auto& [path, what] :
       {std::pair<std::string, std::string_view>{StorePath(flags.dir), "the store"},
        {flags.dir + "/disclosures", "the report store"}}) {
    if (std::filesystem::exists(path)) FL_RETURN_IF_ERROR(CheckPrivateDirectory(path, what));
  }
  return Status::Ok();
}

// Connections need descriptors: the soft limit goes up to the hard one (the connection cap is
// clamped to what it allows, connection_limiter.h).
void RaiseFdLimit() {
  rlimit fds{};
  if (::getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
    fds.rlim_cur = fds.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &fds);
  }
}

}  // namespace

namespace {

// How often `serve`, started read-only on a full disk, tries to open the store for writing: after
// the first interval, then twice as long each time up to the most.
constexpr std::chrono::milliseconds kWritableRetryFirst_ms{1000};
constexpr std::chrono::milliseconds kWritableRetryMost_ms{16000};

bool IsDiskFull(const Status& s) {
  return s.code() == StatusCode::kIoError &&
         s.message().find("the disk is full") != std::string::npos;
}

// Tries, with growing intervals until stopped, to open the store for writing beside
// the read-only instance being served (a read-only RocksDB instance takes no lock); on success
// keeps the writable ledger and stops the server, which `serve` then restarts on it.
class WritableRetry {
 public:
  WritableRetry(const ServeFlags& flags, HttpServer& server)
      : thread_([this, &flags, &server] { Run(flags, server); }) {}
  ~WritableRetry() { (void)Finish(); }
  // Stops trying (waits for a try under way) and returns the writable ledger, if one opened.
  std::optional<OpenedLedger> Finish() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return std::move(writable_);
  }

 private:
  void Run(const ServeFlags& flags, HttpServer& server) {
    std::unique_lock lock(mu_);
    for (auto wait = kWritableRetryFirst_ms; !wake_.wait_for(lock, wait, [this] { return stop_; });
         wait = std::min(wait * 2, kWritableRetryMost_ms)) {
      lock.unlock();
      Result<OpenedLedger> opened =
          OpenLedgerForWrite(flags.dir, flags.vault_key, flags.checkpoint_interval_ms);
      lock.lock();
      if (opened.ok()) {
        writable_ = std::move(opened).value();
        server.Stop();
        return;
      }
      if (!IsDiskFull(opened.status()))
        fmt::print(stderr, "fundledger: still read-only: {}\n", opened.status().message());
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::optional<OpenedLedger> writable_;
  std::thread thread_;  // last: starts once the members it uses exist
};

// The witnesses of --witness-policy, asked for each new checkpoint of `log`.
Result<std::unique_ptr<CheckpointPublisher>> OpenPublisher(const ServeFlags& flags, const Log& log,
                                                           WitnessTransport* transport) {
  Result<WitnessPolicy> policy = WitnessPolicy::ReadFile(flags.witness_policy);
  if (!policy.ok()) return Status(policy.status()).WithField("witness-policy");
  CheckpointPublisherOptions p;
  p.path = flags.dir + "/published-checkpoint";
  p.policy = std::move(policy).value();
  p.transport = transport;
  p.log = [](const std::string& line) { fmt::print(stderr, "fundledger: {}\n", line); };
  return CheckpointPublisher::Open(log, std::move(p));
}

// Serves one opened ledger until SIGTERM, or (read-only) until the store can be written again:
// then returns that writable ledger in *reopened.
int ServeOpened(const ServeFlags& flags, ServerOptions& server_options, OpenedLedger& opened,
                const std::string& read_only_reason, std::optional<OpenedLedger>* reopened) {
  std::unique_ptr<Ledger>& ledger = opened.ledger;
  TokenStore tokens(flags.dir);
  Metrics metrics;
  ServiceOptions service_options;
  service_options.public_log = flags.public_log;
  service_options.data_dir = flags.dir;
  service_options.read_only_reason = read_only_reason;
  service_options.open_data = flags.open_data;
  if (!flags.quiet) {
    service_options.log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  }
  HttpWitnessTransport transport({});
  std::unique_ptr<CheckpointPublisher> publisher;
  if (!flags.witness_policy.empty()) {
    Result<std::unique_ptr<CheckpointPublisher>> p =
        OpenPublisher(flags, ledger->log(), &transport);
    if (!p.ok()) return ExitFailure(p.status());
    publisher = std::move(p).value();
    service_options.published_checkpoint = [&publisher] { return publisher->Published(); };
  }
  // Before serving: the entries new since the verified watermark; then the whole store again,
  // in the background, every scrub interval.
  ScrubOptions scrub_options;
  scrub_options.interval = std::chrono::seconds(flags.scrub_interval_s);
  scrub_options.entries_per_step = flags.scrub_entries_per_step;
  scrub_options.watermark_path = flags.dir + "/verified";
  StoreScrub scrub(ledger->log(), scrub_options);
  if (Status verified = scrub.VerifyNew(); !verified.ok())
    return ExitFailure(Status(verified.code(), "serve refuses to start: " + verified.message()));
  service_options.damage = [&scrub] { return scrub.damage(); };
  service_options.extra_metrics = [&scrub, &publisher] {
    return scrub.MetricsText() + (publisher ? publisher->RenderMetrics() : std::string());
  };
  Service service(*ledger, *opened.projections, tokens, metrics, service_options);
  HttpServer server(service, server_options);
  Result<uint16_t> port = server.Start();
  if (!port.ok()) return ExitFailure(port.status());
  std::string host = server_options.listen.substr(0, server_options.listen.rfind(':'));
  server_options.listen = host + ":" + std::to_string(*port);  // a restart keeps the port
  bool tls = !server_options.tls_cert_file.empty();
  fmt::print("fundledger serving {} ({} entries{}) on {}://{}:{}\n", ledger->log().origin(),
             ledger->log().size(), read_only_reason.empty() ? "" : ", read-only",
             tls ? "https" : "http", host, *port);
  std::fflush(stdout);
  if (publisher) publisher->Start();
  scrub.Start();
  if (read_only_reason.empty()) {
    server.Run();
  } else {
    fmt::print(stderr, "fundledger: serving read-only, writes refused until space returns: {}\n",
               read_only_reason);
    WritableRetry retry(flags, server);
    server.Run();
    *reopened = retry.Finish();
  }
  publisher.reset();  // stops asking witnesses before the log closes
  scrub.Stop();       // reads the log: stopped before it closes
  Status closed = ledger->Close();
  if (!closed.ok()) return ExitFailure(closed);
  if (reopened->has_value()) {
    fmt::print(stderr, "fundledger: the store is writable again; serving it for writes\n");
    return 0;
  }
  fmt::print("stopped cleanly at {} entries\n", ledger->log().size());
  return 0;
}

}  // namespace

// On a full disk the store cannot be opened for writing (RocksDB writes its manifest on open):
// `serve` then serves it read-only, says so, and switches to writing once space returns.
int CmdServe(const ServeFlags& flags) {
  if (!flags.cluster.empty()) return CmdServeCluster(flags);
  if (flags.dir.empty())
    return ExitFailure(InvalidArgument("serve needs --data DIR").WithField("data"));
  RaiseFdLimit();
  if (Status files = CheckServedFiles(flags); !files.ok())
    return ExitFailure(Status(files.code(), "serve refuses to start: " + files.message())
                           .WithField(files.field()));
  if (Status p = CheckPublisher(flags.open_data); !flags.open_data.org_id.empty() && !p.ok())
    return ExitFailure(p);
  fmt::print(stderr, "{}", VaultKeyInsideWarning(flags.dir, flags.vault_key));
  ServerOptions server_options = flags.server;
  Result<OpenedLedger> opened =
      OpenLedgerForWrite(flags.dir, flags.vault_key, flags.checkpoint_interval_ms);
  for (;;) {
    std::string read_only_reason;
    if (!opened.ok() && IsDiskFull(opened.status())) {
      read_only_reason = opened.status().message();
      opened = OpenLedgerReadOnly(flags.dir);
    }
    if (!opened.ok()) return ExitFailure(opened.status());
    std::optional<OpenedLedger> reopened;
    int rc = ServeOpened(flags, server_options, *opened, read_only_reason, &reopened);
    if (rc != 0 || !reopened) return rc;
    opened = std::move(*reopened);
  }
}

int CmdTokenAdd(const std::string& dir, const std::string& actor, const std::string& role,
                const std::string& org) {
  if (!std::filesystem::exists(StorePath(dir))) return ExitFailure(NotFound("no ledger at " + dir));
  TokenStore store(dir);
  Result<std::string> token = store.Add(actor, role, org);
  if (!token.ok()) return ExitFailure(token.status());
  fmt::print("token {} {} {}\n", role, actor, *token);
  fmt::print(stderr, "this token is shown once; only its hash is kept in {}/tokens\n", dir);
  return 0;
}

int CmdTokenRevoke(const std::string& dir, const std::string& id_or_actor) {
  TokenStore store(dir);
  Result<int> n = store.Revoke(id_or_actor);
  if (!n.ok()) return ExitFailure(n.status());
  fmt::print("revoked {} token(s)\n", *n);
  return 0;
}

int CmdTokenList(const std::string& dir) {
  TokenStore store(dir);
  Result<std::vector<TokenRecord>> list = store.List();
  if (!list.ok()) return ExitFailure(list.status());
  for (const TokenRecord& r : *list) {
    fmt::print("{} {:<8} {:<24} {:<20} {}\n", r.id, r.role, r.actor, r.org.empty() ? "-" : r.org,
               r.revoked ? "revoked" : "active");
  }
  return 0;
}

int CmdImport(const ImportFlags& f) {
  Result<std::string> actor = NormalizeActor(f.actor, "actor");
  if (!actor.ok()) return ExitFailure(actor.status());
  Result<int32_t> period = ParseMonth(f.period);
  if (!period.ok()) return ExitFailure(Status(period.status()).WithField("period"));
  std::ifstream in(f.file, std::ios::binary);
  if (!in) return ExitFailure(NotFound("cannot read " + f.file));
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string body = buf.str();
  uint64_t total_lines = static_cast<uint64_t>(std::count(body.begin(), body.end(), '\n'));
  bool tty = ::isatty(STDERR_FILENO);
  auto start = std::chrono::steady_clock::now();
  auto progress = [&](uint64_t done) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    double eta =
        rate > 0 && total_lines > done ? static_cast<double>(total_lines - done) / rate : 0;
    if (tty) {
      int width = 30;
      int filled = total_lines ? static_cast<int>(width * done / total_lines) : width;
      fmt::print(stderr, "\r[{}{}] {}/{} lines checked, {:.0f} lines/s, ETA {:.1f}s ",
                 std::string(filled, '#'), std::string(width - filled, ' '), done, total_lines,
                 rate, eta);
    } else {
      fmt::print(stderr, "checked {} of {} lines ({:.0f} lines/s)\n", done, total_lines, rate);
    }
  };
  RollFormat format = f.file.ends_with(".jsonl") || f.file.ends_with(".json")
                          ? RollFormat::kJsonLines
                          : RollFormat::kCsv;
  Result<ParsedRoll> roll = ParseRoll(body, format, *period, progress);
  progress(total_lines);
  if (tty) fmt::print(stderr, "\n");
  if (!roll.ok()) return ExitFailure(roll.status());
  for (const std::string& col : roll->ignored_columns)
    fmt::print(stderr, "note: column '{}' is ignored\n", col);
  Result<std::shared_ptr<const ActorSigningKey>> signer = LoadActorSigningKey(f.signing_key);
  if (!signer.ok()) return ExitFailure(signer.status());
  Result<OpenedLedger> opened = OpenLedgerForWrite(f.dir, f.vault_key);
  if (!opened.ok()) return ExitFailure(opened.status());
  Ledger& ledger = *opened->ledger;
  std::string batch = f.batch_id.empty() ? "ROLL-" + f.fund + "-" + f.period : f.batch_id;
  size_t rows = roll->rows.size();
  RollIdentities identities = LedgerIdentities(ledger);
  ResolvedRoll resolved = ledger.domain().Read([&](const DomainState& s) {
    return ResolveRoll(s, {batch, f.fund, f.bucket, *period}, identities, std::move(*roll));
  });
  if (!resolved.problems.empty()) {
    fmt::print(stderr, "{} problems in {} lines; nothing was posted:\n", resolved.problems.size(),
               rows);
    for (const Status& e : resolved.problems)
      fmt::print(stderr, "  line {}: {}: {}\n", e.line(), e.field(), e.message());
    return 1;
  }
  if (!resolved.roll_problem.ok()) return ExitFailure(resolved.roll_problem);
  fmt::print(stderr, "checking {} lines against the ledger's rules and committing...\n",
             resolved.lines.size());
  Result<AppendResult> r =
      ledger.PrepareBatch(Actor{*actor, fb::Role::maker, *signer}, "import:" + batch, batch, f.fund,
                          f.bucket, *period, "imported from " + f.file, resolved.lines);
  if (!r.ok()) return ExitFailure(r.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(
      "{} batch {}: {} lines, {} yuan, entries {}..{} ({:.1f}s); awaiting approval by a checker\n",
      r->replayed ? "already prepared:" : "prepared", batch, resolved.lines.size(),
      resolved.total.ToYuan(), r->first_index, r->first_index + r->count - 1, secs);
  Status closed = ledger.Close();
  return closed.ok() ? 0 : ExitFailure(closed);
}

int CmdExport(const std::string& dir, const std::string& what, const std::string& period_text,
              const OpenDataPublisher& publisher) {
  Result<OpenedLedger> opened = OpenLedgerReadOnly(dir);
  if (!opened.ok()) return ExitFailure(opened.status());
  const Projections& projections = *opened->projections;
  const Log& log = opened->ledger->log();
  const Domain& domain = opened->ledger->domain();
  if (what == "balances") {
    fmt::print("account,posted_fen,pending_fen,available_fen\n");
    domain.Read([&](const DomainState& s) {
      for (const auto& [account, b] : projections.BalancesWithPrefix(s, "")) {
        if (account.starts_with("ben/")) continue;  // per-person totals: the payments export
        fmt::print("{},{},{},{}\n", CsvField(account), b.posted_fen, b.pending_fen,
                   b.available_fen());
      }
    });
    return 0;
  }
  if (what == "payments") {
    Result<int32_t> period = ParseMonth(period_text);
    if (!period.ok())
      return ExitFailure(
          InvalidArgument("export payments needs --period YYYY-MM").WithField("period"));
    fmt::print("batch_id,line_no,beneficiary_id,program_id,period,amount_fen,state\n");
    domain.Read([&](const DomainState& s) {
      for (const auto& [id, b] : s.batches) {
        for (const BatchLine& l : b.lines) {
          if (l.period != *period) continue;
          fmt::print("{},{},{},{},{},{},{}\n", id, l.line_no, s.names[l.beneficiary],
                     s.names[l.program], FormatMonth(l.period), l.amount_fen,
                     LineStateName(l.state));
        }
      }
      return 0;
    });
    return 0;
  }
  if (what == "360giving" || what == "iati") {
    Result<std::string> out = what == "iati"
                                  ? IatiActivitiesXml(log, log.size(), log.origin(), publisher)
                                  : Giving360Json(log, log.size(), log.origin(), publisher);
    if (!out.ok()) return ExitFailure(out.status());
    fmt::print("{}", *out);
    return 0;
  }
  if (what == "beneficiaries") {
    fmt::print("beneficiary_id,household_id,region_code,birth_year,status,programs,received_fen\n");
    domain.Read([&](const DomainState& s) {
      for (const auto& [id, b] : s.beneficiaries) {
        std::string programs;
        auto p = s.programs_of.find(id);
        if (p != s.programs_of.end()) {
          for (const std::string& prog : p->second)
            programs += (programs.empty() ? "" : ";") + prog;
        }
        fb::BeneficiaryStatus status =
            b.statuses.empty() ? fb::BeneficiaryStatus::active : b.statuses.back().status;
        fmt::print("{},{},{},{},{},{},{}\n", id, b.household, b.region, b.birth_month / 100,
                   b.erased ? "erased" : fb::EnumNameBeneficiaryStatus(status), programs,
                   projections.BalanceOf(s, BeneficiaryAccount(id)).posted_fen);
      }
      return 0;
    });
    return 0;
  }
  return ExitFailure(InvalidArgument(
      "export takes balances, payments, beneficiaries, 360giving or iati, not '" + what + "'"));
}

int CmdPost(const std::string& dir, const std::string& event_type, const std::string& json,
            const std::string& actor_text, const std::string& role, const std::string& key,
            const std::string& signing_key) {
  Result<std::string> actor = NormalizeActor(actor_text, "actor");
  if (!actor.ok()) return ExitFailure(actor.status());
  fb::EventType type = fb::EventType::Unknown;
  for (auto t : fb::EnumValuesEventType()) {
    if (event_type == fb::EnumNameEventType(t) && IsDomainEvent(t)) type = t;
  }
  if (type == fb::EventType::Unknown)
    return ExitFailure(
        InvalidArgument("'" + event_type + "' is not an event type (see ledger/entry.fbs)"));
  Result<fb::Role> r = RoleFromName(role);
  if (!r.ok()) return ExitFailure(r.status());
  Result<DomainEvent> event = EventFromJson(type, json);
  if (!event.ok()) return ExitFailure(event.status());
  Result<std::shared_ptr<const ActorSigningKey>> signer = LoadActorSigningKey(signing_key);
  if (!signer.ok()) return ExitFailure(signer.status());
  Result<OpenedLedger> opened = OpenLedgerForWrite(dir);
  if (!opened.ok()) return ExitFailure(opened.status());
  Ledger& ledger = *opened->ledger;
  Result<AppendResult> appended =
      ledger.Submit(Actor{*actor, *r, *signer}, key, {std::move(event).value()});
  if (!appended.ok()) return ExitFailure(appended.status());
  fmt::print("{} entry {}\n", appended->replayed ? "already appended as" : "appended",
             appended->first_index);
  Status closed = ledger.Close();
  return closed.ok() ? 0 : ExitFailure(closed);
}

int CmdErase(const std::string& dir, const std::string& subject, const std::string& reason,
             const std::string& actor_text, const std::string& vault_key,
             const std::string& signing_key) {
  Result<std::string> actor = NormalizeActor(actor_text, "actor");
  if (!actor.ok()) return ExitFailure(actor.status());
  Result<std::shared_ptr<const ActorSigningKey>> signer = LoadActorSigningKey(signing_key);
  if (!signer.ok()) return ExitFailure(signer.status());
  if (Status free = CheckStoreNotInUse(dir); !free.ok()) return ExitFailure(free);
  LedgerOptions options;
  options.vault_key_path = vault_key;
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(dir, options);
  if (!ledger.ok()) return ExitFailure(ledger.status());
  Result<AppendResult> r = (*ledger)->Erase(Actor{*actor, fb::Role::admin, *signer},
                                            "erase:" + subject, subject, reason);
  if (!r.ok()) return ExitFailure(r.status());
  fmt::print("erased the personal data of {}; Erased entry {}\n", subject, r->first_index);
  Status closed = (*ledger)->Close();
  if (!closed.ok()) return ExitFailure(closed);
  // The backups' copy of the person's key goes too (api/cli_backup.h).
  Result<uint64_t> dropped = DropSubjectFromVaultRows(BackupVaultRowsPath(dir, vault_key), subject);
  return dropped.ok() ? 0 : ExitFailure(dropped.status());
}

int CmdDisclose(const DiscloseFlags& f) {
  Result<OpenedLedger> opened = OpenLedgerReadOnly(f.dir);
  if (!opened.ok()) return ExitFailure(opened.status());
  const Log& log = opened->ledger->log();
  if (f.list) {
    opened->ledger->domain().Read([](const DomainState& s) {
      std::set<std::string> orgs;
      for (const auto& [id, fund] : s.funds) {
        fmt::print("{}\tfund\t{}\t{}\t{}\n", id, fb::EnumNameFundKind(fund.kind), fund.organisation,
                   fund.name);
        orgs.insert(fund.organisation);
      }
      for (const std::string& o : orgs) fmt::print("{}\torg\n", o);
      return 0;
    });
    return 0;
  }
  DisclosureScope scope;
  if (!f.fund.empty()) scope = {"fund", f.fund, f.period};
  if (!f.org.empty()) scope = {"org", f.org, f.period};
  if (!f.project.empty()) scope = {"project", f.project, f.period};
  if (scope.kind.empty())
    return ExitFailure(
        InvalidArgument("disclose takes --fund F, --org O or --project P (or --list)"));
  Result<std::string> note = log.LatestCheckpoint();
  if (!note.ok()) return ExitFailure(note.status());
  Result<Checkpoint> cp = OpenCheckpoint(*note, log.verifier());
  if (!cp.ok()) return ExitFailure(cp.status());
  Result<DisclosureReport> report = ComputeDisclosure(log, cp->size, scope, nullptr);
  if (!report.ok()) return ExitFailure(report.status());
  if (f.format == "json") {
    fmt::print("{}\n", DisclosureJson(*report));
  } else if (f.format == "csv") {
    fmt::print("{}", DisclosureCsv(*report));
  } else if (f.format == "html") {
    fmt::print("{}", DisclosureHtml(DisclosureJson(*report), f.lang, 0));
  } else {
    return ExitFailure(InvalidArgument("--format takes json, csv or html"));
  }
  return 0;
}

std::string DemoStaffKeyFile(const std::string& dir, const std::string& actor) {
  return VaultKeyDir(dir) + "/staff/" + actor + ".key";
}

int CmdDemo(const DemoFlags& f) {
  if (std::filesystem::exists(StorePath(f.dir)))
    return ExitFailure(Conflict("a ledger already exists at " + f.dir));
  Projections projections;
  Result<std::unique_ptr<Ledger>> ledger =
      Ledger::Create(f.dir, f.origin, WithProjections(projections, {}));
  if (!ledger.ok()) return ExitFailure(ledger.status());
  fmt::print(stderr, "demo: {}", VaultKeyNotice(f.dir));
  DemoOptions options;
  options.seed = f.seed;
  options.people = f.people;
  options.months = f.months;
  options.require_signing = f.require_signing;
  options.progress = [](const std::string& what) { fmt::print(stderr, "demo: {}\n", what); };
  auto start = std::chrono::steady_clock::now();
  Result<DemoSummary> summary = GenerateDemoCity(**ledger, options);
  if (!summary.ok()) return ExitFailure(summary.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(stderr,
             "demo: {} people, {} roll lines, {} deaths, {} bank returns, {} entries in {:.1f}s\n",
             summary->people, summary->roll_lines, summary->deaths, summary->returns,
             summary->entries, secs);
  // The demo's districts by name (Nanjing's), for the public pages.
  Status regions = SharedFile(f.dir + "/" + kRegionNamesFile, "the region names")
                       .Replace(
                           "320102\t玄武区\n320104\t秦淮区\n320105\t建邺区\n320106\t鼓楼区\n"
                           "320111\t浦口区\n");
  if (!regions.ok()) return ExitFailure(regions);
  // Each charity publishes its report for the demo's year (its money is dated 2025, whenever
  // the demo runs), so the public site has something to show.
  for (const auto& [fund, org] :
       {std::pair<std::string, std::string>{"F-SUNSHINE", "charity.sunshine"},
        {"F-WARMHEART", "charity.warmheart"}}) {
    Actor publisher{org, fb::Role::charity, summary->keys.at(org)};
    Result<PublicationResult> pub =
        PublishDisclosureReport(**ledger, f.dir, {{"fund", fund, "2025"}, "annual"}, nullptr,
                                publisher, "demo-disclosure-" + fund, SystemLogClock().NowMs());
    if (!pub.ok()) return ExitFailure(pub.status());
  }
  Status closed = (*ledger)->Close();
  if (!closed.ok()) return ExitFailure(closed);
  TokenStore tokens(f.dir);
  const std::tuple<const char*, const char*, const char*> roles[] = {
      {"admin", "admin.zhao", ""},
      {"maker", "clerk.li", ""},
      {"checker", "checker.wang", ""},
      {"auditor", "auditor.chen", ""},
      {"charity", "charity.sunshine", "charity.sunshine"},
      {"public", "public.reader", ""}};
  for (const auto& [role, actor, org] : roles) {
    Result<std::string> token = tokens.Add(actor, role, org);
    if (!token.ok()) return ExitFailure(token.status());
    fmt::print("token {} {} {}\n", role, actor, *token);
  }
  // The staff's console accounts (/console): the browser key each makes at its first log-in
  // waits for an admin to register it (scripts/register-browser-key, or the admin's console).
  StaffAccounts accounts(f.dir);
  for (const auto& [role, actor, org] : roles) {
    if (std::string_view(role) == "public" || std::string_view(role) == "charity") continue;
    Result<std::string> password = DemoPassword();
    if (!password.ok()) return ExitFailure(password.status());
    Status created = accounts.Create(actor, role, org, *password);
    if (!created.ok()) return ExitFailure(created);
    fmt::print("account {} {} {}\n", role, actor, *password);
  }
  // The staff's key files, for signing with the CLI (--signing-key) or an HTTP client.
  std::string key_dir = VaultKeyDir(f.dir) + "/staff";
  std::error_code made;
  std::filesystem::create_directories(key_dir, made);
  std::filesystem::permissions(key_dir, std::filesystem::perms::owner_all, made);
  if (made) return ExitFailure(IoError("cannot create " + key_dir + ": " + made.message()));
  for (const auto& [actor, key] : summary->keys) {
    Result<NoteSigner> signer = MakeNoteSigner(actor, key->key);
    if (!signer.ok()) return ExitFailure(signer.status());
    std::string path = DemoStaffKeyFile(f.dir, actor);
    // Left by an earlier demo of the same path: the same seed makes the same key.
    Result<NoteSigner> earlier = ReadSignerKeyFile(path);
    bool same = earlier.ok() && earlier->key.public_key() == key->key.public_key();
    Status written = same ? Status::Ok() : WriteSignerKeyFile(path, *signer);
    if (!written.ok()) return ExitFailure(written);
    fmt::print("key {} {} {}\n", actor, key->key_id, path);
  }
  return 0;
}

}  // namespace fundledger
