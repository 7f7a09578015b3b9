#include "api/cli.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/cli_audit.h"
#include "api/cli_backup.h"
#include "api/cli_exit.h"
#include "api/cli_keys.h"
#include "api/cli_log.h"
#include "api/cli_service.h"
#include "api/cli_state.h"
#include "api/cli_witness.h"
#include "projections/fund_balances.h"

namespace fundledger {
namespace {

// Every option's variable. One subcommand runs per process, so subcommands that take the same
// option (--data, --index) share its variable.
struct Flags {
  std::string dir;
  std::string origin, vkey;
  unsigned verify_threads = 0;
  uint64_t index = 0, old_size = 0;
  std::optional<uint64_t> proof_size, to_index;
  bool repair = false;
  std::string snapshot_path, fund, as_of;
  std::string subject, reason, actor = "admin", vault_key, erase_signing_key;
  ServeFlags serve;
  size_t body_mib = ServerOptions{}.body_bytes_max >> 20;
  size_t public_body_kib = ServerOptions{}.public_body_bytes_max >> 10;
  std::string token_actor, token_role, token_org, token_id;
  ImportFlags import;
  std::string export_what, export_period;
  OpenDataPublisher export_open_data;
  std::string post_type, post_json, post_actor = "admin", post_role = "admin", post_key,
                                    post_signing_key;
  KeysFlags keys;
  SignRequestFlags sign_request;
  std::string audit_out, audit_bundle, trusted_checkpoint, audit_vkey, audit_policy,
      audit_checkpoint;
  uint64_t audit_from = 0, audit_index = 0;
  std::optional<uint64_t> audit_to;
  bool audit_json = false;
  std::string checks_format = "table", checks_lang = "en";
  int idle_days = 180;
  DiscloseFlags disclose;
  DemoFlags demo;
  std::string witness_name, witness_config;
  ServerOptions witness_server;
  BackupFlags backup;
  RestoreFlags restore;
  RollCityFlags roll_city;
};

// CLI11 reads an over-long number as the largest one; this refuses it, naming the option.
const CLI::Validator kWholeNumber(
    [](std::string& text) -> std::string {
      uint64_t v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return "";
      return "must be a whole number below 2^64, got '" + text.substr(0, 40) + "'";
    },
    "UINT64");

constexpr const char* kVaultKeyHelp =
    "the vault master key file (default $FUNDLEDGER_VAULT_KEY, else DIR.keys/vault.key; "
    "DIR/vault.key where an earlier ledger keeps it)";

// A subcommand and what runs when it was given.
struct Subcommand {
  CLI::App* app;
  std::function<int()> run;
};

class CommandTable {
 public:
  CommandTable(CLI::App& app, Flags& flags) : app_(app), f_(flags) {}

  // A subcommand of `parent` (the app when null) taking --data DIR.
  CLI::App* WithData(const std::string& name, const std::string& description,
                     std::function<int()> run, CLI::App* parent = nullptr) {
    CLI::App* cmd = Plain(name, description, std::move(run), parent);
    cmd->add_option("--data", f_.dir, "ledger data directory")->required();
    return cmd;
  }
  CLI::App* Plain(const std::string& name, const std::string& description, std::function<int()> run,
                  CLI::App* parent = nullptr) {
    CLI::App* cmd = (parent != nullptr ? parent : &app_)->add_subcommand(name, description);
    commands_.push_back({cmd, std::move(run)});
    return cmd;
  }
  int Run() const {
    for (const Subcommand& c : commands_) {
      if (c.app->parsed()) return c.run();
    }
    return kExitUnusable;
  }

 private:
  CLI::App& app_;
  Flags& f_;
  std::vector<Subcommand> commands_;
};

void AddLogCommands(CLI::App& app, CommandTable& t, Flags& f) {
  t.WithData("init", "create a ledger: store, signing key and genesis entry",
             [&] { return CmdInit(f.dir, f.origin); })
      ->add_option("--origin", f.origin, "the log's name, e.g. ledger.civil-affairs.example.cn")
      ->required();
  t.WithData("checkpoint", "print the latest signed checkpoint note",
             [&] { return CmdCheckpoint(f.dir); });
  t.WithData("key", "print the verifier key (vkey)", [&] { return CmdKey(f.dir); });
  CLI::App* verify = t.WithData("verify", "verify the whole chain, tree and checkpoints",
                                [&] { return CmdVerify(f.dir, f.vkey, f.verify_threads); });
  verify->add_option("--vkey", f.vkey, "trust this verifier key instead of the log's own genesis");
  verify
      ->add_option("--threads", f.verify_threads,
                   "threads that check the log's chunks (default: one per core)")
      ->check(CLI::Range(0u, 256u));

  CLI::App* prove = app.add_subcommand("prove", "print an inclusion or consistency proof as JSON");
  prove->require_subcommand(1);
  CLI::App* inclusion = t.WithData(
      "inclusion", "proof that entry INDEX is in the tree",
      [&] { return CmdProveInclusion(f.dir, f.index, f.proof_size); }, prove);
  inclusion->add_option("--index", f.index, "entry index")->required()->check(kWholeNumber);
  inclusion->add_option("--size", f.proof_size, "tree size (default: latest checkpoint)")
      ->check(kWholeNumber);
  CLI::App* consistency = t.WithData(
      "consistency", "proof that the tree only grew from OLD",
      [&] { return CmdProveConsistency(f.dir, f.old_size, f.proof_size); }, prove);
  consistency->add_option("--old", f.old_size, "the earlier tree size")
      ->required()
      ->check(kWholeNumber);
  consistency->add_option("--size", f.proof_size, "tree size (default: latest checkpoint)")
      ->check(kWholeNumber);

  t.WithData("entry", "print one entry as JSON, with its raw bytes",
             [&] { return CmdEntry(f.dir, f.index); })
      ->add_option("--index", f.index, "entry index")
      ->required()
      ->check(kWholeNumber);
}

void AddStateCommands(CommandTable& t, Flags& f) {
  CLI::App* replay =
      t.WithData("replay", "rebuild every projection from the log, verifying it, and compare",
                 [&] { return CmdReplay(f.dir, f.to_index, f.repair, f.snapshot_path); });
  replay->add_option("--to", f.to_index, "apply entries up to this index only")
      ->check(kWholeNumber);
  replay->add_flag("--repair", f.repair,
                   "rewrite the stored projections from the log (ledger must be stopped)");
  replay->add_option("--from-snapshot", f.snapshot_path,
                     "start from this snapshot and verify and replay only the tail");
  t.WithData("snapshot", "save the state at the current size so opening replays only the tail",
             [&] { return CmdSnapshot(f.dir); });
  CLI::App* balance =
      t.WithData("balance", "a fund's balance per bucket, now or as of an entry, time or date",
                 [&] { return CmdBalance(f.dir, f.fund, f.as_of); });
  balance->add_option("--fund", f.fund, "fund id")->required();
  balance->add_option("--as-of", f.as_of, std::string(kAsOfHelp));
}

// The publisher of the open-data exports (api/open_data.h), for serve and export.
void OpenDataOptions(CLI::App* app, OpenDataPublisher& p) {
  app->add_option("--org-id", p.org_id,
                  "the publisher's org-id for open data: registration agency and number, e.g. "
                  "CN-USCI-<统一社会信用代码>");
  app->add_option("--org", p.organisation,
                  "the organisation of the ledger (a fund's organisation) the org-id is");
  app->add_option("--360g-prefix", p.giving_prefix,
                  "the publisher's 360Giving prefix (default 360G-<org-id>)");
  app->add_option("--public-url", p.base_url,
                  "where the log is served, for open data's links (default https://<origin>)");
}

void AddServiceCommands(CLI::App& app, CommandTable& t, Flags& f) {
  CLI::App* city = t.Plain(
      "roll-city",
      "create a ledger, or with --cluster a cluster's empty log as its first writer, holding "
      "the roll benchmarks' city: program dibao, fund F, people B0..B(N-1)",
      [&] { return CmdRollCity(f.roll_city); });
  city->add_option("--data", f.roll_city.dir, "ledger data directory (must not exist)");
  city->add_option("--cluster", f.roll_city.cluster,
                   "a node's cluster file (serve --cluster): the city goes to its log of record");
  city->add_option("--origin", f.roll_city.origin, "log origin (without --cluster)");
  city->add_option("--people", f.roll_city.people, "beneficiaries")
      ->required()
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  CLI::App* serve =
      t.Plain("serve", "run the HTTP/JSON API (SIGTERM or Ctrl-C stops it cleanly)", [&] {
        f.serve.server.body_bytes_max = f.body_mib << 20;
        f.serve.server.public_body_bytes_max = f.public_body_kib << 10;
        return CmdServe(f.serve);
      });
  serve->add_option("--data", f.serve.dir,
                    "ledger data directory (required, unless the --cluster file names it)");
  serve->add_option(
      "--cluster", f.serve.cluster,
      "cluster mode: a JSON file naming the PostgreSQL hosts (dsn), the log's origin, "
      "this node's name and data dir, and every node's URL (README.md, Running a "
      "cluster)");
  serve->add_option("--listen", f.serve.server.listen, "HOST:PORT (port 0: any free port)");
  serve->add_option("--tls-cert", f.serve.server.tls_cert_file,
                    "PEM certificate chain: serve HTTPS");
  serve->add_option("--tls-key", f.serve.server.tls_key_file, "PEM private key");
  serve->add_option("--io-threads", f.serve.server.io_threads, "socket threads")
      ->check(CLI::Range(1, 64));
  serve->add_flag("--public-log", f.serve.public_log,
                  "entries, proofs and tiles readable without a token");
  serve->add_option("--vault-key", f.serve.vault_key, kVaultKeyHelp);
  serve->add_flag("--quiet", f.serve.quiet, "no request log lines");
  serve
      ->add_option("--scrub-interval-s", f.serve.scrub_interval_s,
                   "seconds from one background re-verification of the whole store to the next "
                   "(default 21600)")
      ->check(CLI::Range(int64_t{1}, int64_t{30 * 86'400}));
  serve
      ->add_option("--scrub-entries-per-step", f.serve.scrub_entries_per_step,
                   "entries the scrub verifies between short pauses (default 16384)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30));
  serve->add_option("--witness-policy", f.serve.witness_policy,
                    "C2SP tlog-policy file: the witnesses that cosign each checkpoint (with their "
                    "URLs) and the quorum that publishes it");
  OpenDataOptions(serve, f.serve.open_data);
  serve
      ->add_option("--checkpoint-interval-ms", f.serve.checkpoint_interval_ms,
                   "sign a checkpoint at most this often, and within this long of a commit "
                   "(default 0: every commit)")
      ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}));
  serve
      ->add_option("--max-body-mib", f.body_mib,
                   "largest request body in MiB from a caller whose token may call the route "
                   "(default 256)")
      ->check(CLI::Range(1, 4096));
  serve
      ->add_option("--max-connections", f.serve.server.connections_max,
                   "connections held open at once, within the fd limit (default 10000); past "
                   "it, 503")
      ->check(CLI::Range(1, 1'000'000));
  serve
      ->add_option("--max-connections-per-client", f.serve.server.connections_per_client_max,
                   "connections from one client address (default 128); past it, 503")
      ->check(CLI::Range(1, 1'000'000));
  serve
      ->add_option("--max-public-body-kib", f.public_body_kib,
                   "largest request body in KiB from anyone else (default 64)")
      ->check(CLI::Range(1, 1 << 20));

  CLI::App* token = app.add_subcommand("token", "manage bearer tokens");
  token->require_subcommand(1);
  CLI::App* add = t.WithData(
      "add", "create a token and print it once",
      [&] { return CmdTokenAdd(f.dir, f.token_actor, f.token_role, f.token_org); }, token);
  add->add_option("--actor", f.token_actor, "who the token stands for")->required();
  add->add_option("--role", f.token_role, "admin, maker, checker, auditor, charity or public")
      ->required();
  add->add_option("--org", f.token_org,
                  "charity tokens: the organisation whose funds they may use");
  t.WithData(
       "revoke", "revoke a token by id, or every token of an actor",
       [&] { return CmdTokenRevoke(f.dir, f.token_id); }, token)
      ->add_option("id_or_actor", f.token_id, "token id (from token list) or actor")
      ->required();
  t.WithData(
      "list", "list tokens (ids, roles, actors; never the tokens)",
      [&] { return CmdTokenList(f.dir); }, token);
}

void AddDataCommands(CommandTable& t, Flags& f) {
  CLI::App* import =
      t.Plain("import", "prepare a disbursement batch from a roll file (CSV or JSON lines)",
              [&] { return CmdImport(f.import); });
  import->add_option("file", f.import.file, "roll.csv or roll.jsonl")->required();
  import->add_option("--data", f.import.dir, "ledger data directory")->required();
  import->add_option("--fund", f.import.fund, "fund paying the roll")->required();
  import->add_option("--period", f.import.period, "YYYY-MM")->required();
  import->add_option("--bucket", f.import.bucket, "bucket (default general)");
  import->add_option("--batch-id", f.import.batch_id, "batch id (default ROLL-<fund>-<period>)");
  import->add_option("--actor", f.import.actor, "the clerk preparing it");
  import->add_option("--vault-key", f.import.vault_key, kVaultKeyHelp);
  import->add_option("--signing-key", f.import.signing_key,
                     "the clerk's key file (keygen): signs the roll (required once the ledger "
                     "requires signing)");

  CLI::App* exp = t.WithData(
      "export", "CSV of balances, payments of a period, or beneficiaries (pseudonymous)",
      [&] { return CmdExport(f.dir, f.export_what, f.export_period, f.export_open_data); });
  exp->add_option("what", f.export_what, "balances | payments | beneficiaries | 360giving | iati")
      ->required();
  OpenDataOptions(exp, f.export_open_data);
  exp->add_option("--period", f.export_period, "YYYY-MM (payments)");

  CLI::App* post = t.WithData(
      "post", "append one event from JSON (the body the API takes), with the rules applied", [&] {
        return CmdPost(f.dir, f.post_type, f.post_json, f.post_actor, f.post_role, f.post_key,
                       f.post_signing_key);
      });
  post->add_option("event", f.post_type, "event type, e.g. Appropriated")->required();
  post->add_option("--json", f.post_json, "the event's fields as a JSON object")->required();
  post->add_option("--actor", f.post_actor, "who posts it");
  post->add_option("--role", f.post_role, "their role");
  post->add_option("--key", f.post_key, "idempotency key")->required();
  post->add_option("--signing-key", f.post_signing_key,
                   "the actor's key file (keygen): signs the command (required once the ledger "
                   "requires signing)");

  CLI::App* keygen = t.Plain("keygen", "write a new Ed25519 signing key for a person (0600)",
                             [&] { return CmdKeygen(f.keys.out, f.keys.for_actor); });
  keygen->add_option("--out", f.keys.out, "the key file to create")->required();
  keygen->add_option("--actor", f.keys.for_actor, "whose key it is")->required();
  CLI::App* sign = t.Plain(
      "sign-request",
      "print the Fundledger-Signature header of an HTTP command (for curl and other clients)",
      [&] { return CmdSignRequest(f.sign_request); });
  sign->add_option("--signing-key", f.sign_request.signing_key, "the actor's key file")->required();
  sign->add_option("--origin", f.sign_request.origin, "the log's origin (GET /v1/key names it)")
      ->required();
  sign->add_option("--role", f.sign_request.role, "the role of the token that sends it")
      ->required();
  sign->add_option("--event", f.sign_request.event, "the route's x-event, e.g. Appropriated")
      ->required();
  sign->add_option("--idempotency-key", f.sign_request.idempotency_key, "the Idempotency-Key")
      ->required();
  sign->add_option("--target", f.sign_request.target, "path and query exactly as sent")->required();
  sign->add_option("--body", f.sign_request.body_file, "the file of the exact body bytes sent");

  CLI::App* keys = t.WithData(
      "keys", "register or revoke a person's signing key, require signing, or list the keys", [&] {
        f.keys.dir = f.dir;
        return CmdKeys(f.keys);
      });
  keys->add_option("action", f.keys.action, "register | revoke | require-signing | list")
      ->required();
  keys->add_option("--for", f.keys.for_actor, "register: whose key");
  keys->add_option("--roles", f.keys.roles, "register: roles, e.g. maker,checker");
  keys->add_option("--public", f.keys.public_key, "register: the public key keygen printed");
  keys->add_option("--key-id", f.keys.key_id, "revoke: the key id");
  keys->add_option("--document", f.keys.document, "the decision or form behind it");
  keys->add_option("--reason", f.keys.reason, "revoke: why");
  keys->add_option("--actor", f.keys.actor, "the admin making the entry");
  keys->add_option("--signing-key", f.keys.signing_key, "the admin's key file");

  CLI::App* erase =
      t.WithData("erase", "destroy a person's personal data (the log still verifies)", [&] {
        return CmdErase(f.dir, f.subject, f.reason, f.actor, f.vault_key, f.erase_signing_key);
      });
  erase->add_option("--beneficiary", f.subject, "beneficiary id (or donor:<id>)")->required();
  erase->add_option("--reason", f.reason, "why, e.g. the request reference")->required();
  erase->add_option("--actor", f.actor, "who is erasing");
  erase->add_option("--vault-key", f.vault_key, kVaultKeyHelp);
  erase->add_option("--signing-key", f.erase_signing_key,
                    "the admin's key file (needed once the ledger requires signing)");

  CLI::App* disclose =
      t.Plain("disclose", "a disclosure report of a fund, organisation or lottery project",
              [&] { return CmdDisclose(f.disclose); });
  disclose->add_option("--data", f.disclose.dir, "ledger data directory")->required();
  disclose->add_option("--fund", f.disclose.fund, "fund id");
  disclose->add_option("--org", f.disclose.org, "organisation id");
  disclose->add_option("--project", f.disclose.project, "lottery project (bucket) id");
  disclose->add_option("--period", f.disclose.period, "2025 or 2025-Q1");
  disclose->add_option("--format", f.disclose.format, "json | csv | html");
  disclose->add_option("--lang", f.disclose.lang, "zh | en (html)");
  disclose->add_flag("--list", f.disclose.list, "list the funds and organisations, id first");

  CLI::App* demo =
      t.Plain("demo", "create a ledger holding a reproducible demo city and one token per role",
              [&] { return CmdDemo(f.demo); });
  demo->add_option("--data", f.demo.dir, "ledger data directory (must not exist)")->required();
  demo->add_option("--origin", f.demo.origin, "log origin");
  demo->add_option("--seed", f.demo.seed, "random seed")->check(kWholeNumber);
  demo->add_option("--people", f.demo.people, "beneficiaries")->check(CLI::Range(10, 1'000'000));
  demo->add_option("--months", f.demo.months, "months from 2025-01")->check(CLI::Range(1, 12));
  demo->add_flag("--require-signing,!--no-signing", f.demo.require_signing,
                 "every command after the staff's keys must be signed (the default; their key "
                 "files go to DIR.keys/staff/ACTOR.key); --no-signing leaves the ledger unsigned");
}

void AddAuditCommands(CLI::App& app, CommandTable& t, Flags& f) {
  CLI::App* audit = app.add_subcommand(
      "audit", "audit bundles: export from a ledger; verify and prove with no database");
  audit->require_subcommand(1);
  CLI::App* exp = t.WithData(
      "export", "write a self-contained bundle (C2SP tlog-tiles layout)",
      [&] { return CmdAuditExport(f.dir, f.audit_out, f.audit_from, f.audit_to); }, audit);
  exp->add_option("--out", f.audit_out, "bundle directory to create")->required();
  exp->add_option("--from", f.audit_from, "first entry (rounded down to a multiple of 256)")
      ->check(kWholeNumber);
  exp->add_option("--to", f.audit_to, "end of the range (default: the latest checkpoint)")
      ->check(kWholeNumber);
  CLI::App* verify = t.Plain(
      "verify", "verify a bundle: entries, chain, tree, checkpoints, consistency",
      [&] {
        return CmdAuditVerify(f.audit_bundle, f.trusted_checkpoint, f.audit_vkey, f.audit_policy);
      },
      audit);
  verify->add_option("bundle", f.audit_bundle, "bundle directory")->required();
  verify->add_option("--trusted-checkpoint", f.trusted_checkpoint,
                     "a checkpoint you kept from an earlier visit");
  verify->add_option("--vkey", f.audit_vkey, "the log's verifier key you trust (or --policy)");
  verify->add_option("--policy", f.audit_policy,
                     "a C2SP tlog-policy file: the log's key and the witnesses that must cosign");
  CLI::App* checks = t.Plain(
      "checks", "anomaly checks: duplicates, payments after death, misuse, ratios, disclosures",
      [&] {
        return CmdAuditChecks(f.dir, f.audit_bundle, f.checks_format, f.idle_days, f.as_of,
                              f.checks_lang);
      },
      audit);
  checks->add_option("--data", f.dir, "ledger data directory");
  checks->add_option("--bundle", f.audit_bundle, "or an audit bundle");
  checks->add_option("--format", f.checks_format, "table | json | csv");
  checks->add_option("--lang", f.checks_lang,
                     "en | zh: the table's or CSV's headers and details (a zh CSV starts with a "
                     "BOM, for Excel)");
  checks->add_option(
      "--as-of", f.as_of,
      "run the checks as of this instant (idle time and deadlines measured to it): " +
          std::string(kAsOfHelp));
  checks->add_option("--idle-days", f.idle_days, "report fund money untouched for longer than this")
      ->check(CLI::Range(1, 36500));
  CLI::App* prove = t.Plain(
      "prove", "inclusion proof of one entry against a checkpoint, for a working paper",
      [&] {
        return CmdAuditProve(f.audit_bundle, f.audit_index, f.audit_checkpoint, f.audit_json);
      },
      audit);
  prove->add_option("--bundle", f.audit_bundle, "bundle directory")->required();
  prove->add_option("--index", f.audit_index, "entry index")->required()->check(kWholeNumber);
  prove->add_option("--checkpoint", f.audit_checkpoint, "checkpoint file (default: the bundle's)");
  prove->add_flag("--json", f.audit_json, "JSON instead of text");
}

void AddBackupCommands(CommandTable& t, Flags& f) {
  CLI::App* backup = t.WithData(
      "backup", "a consistent, verified copy of a ledger, also while it serves (no vault keys)",
      [&] {
        f.backup.dir = f.dir;
        return CmdBackup(f.backup);
      });
  backup->add_option("--to", f.backup.to, "the backup directory to create")->required();
  backup->add_option("--vault-rows", f.backup.vault_rows,
                     "where the persons' vault keys and ID index go, apart from the backup "
                     "(default: beside the vault master key, DIR.keys/vault-rows)");
  CLI::App* restore =
      t.Plain("restore",
              "restore a backup into a new directory once it verifies against a kept "
              "checkpoint (a rolled-back or forked backup is refused)",
              [&] { return CmdRestore(f.restore); });
  restore->add_option("--from", f.restore.from, "the backup directory")->required();
  restore->add_option("--to", f.restore.to, "the data directory to create (absent or empty)")
      ->required();
  restore
      ->add_option("--checkpoint", f.restore.checkpoint,
                   "a signed checkpoint you kept (the note /v1/checkpoint serves)")
      ->required();
  restore->add_option("--vault-rows", f.restore.vault_rows,
                      "the vault rows file backup wrote (default: TO.keys/vault-rows if there)");
}

}  // namespace

void AddWitnessCommands(CLI::App& app, CommandTable& t, Flags& f) {
  CLI::App* witness =
      app.add_subcommand("witness", "run a C2SP tlog-witness that cosigns other logs' checkpoints");
  witness->require_subcommand(1);
  t.Plain(
      "init", "create a witness: its directory and key; prints the key to publish",
      [&] { return CmdWitnessInit(f.dir, f.witness_name); }, witness);
  witness->get_subcommand("init")
      ->add_option("--data", f.dir, "witness directory to create")
      ->required();
  witness->get_subcommand("init")
      ->add_option("--name", f.witness_name, "the witness's name, e.g. witness.audit.example.cn")
      ->required();
  CLI::App* serve = t.Plain(
      "serve", "serve add-checkpoint over HTTP for the logs the config names",
      [&] { return CmdWitnessServe(f.dir, f.witness_config, f.witness_server); }, witness);
  serve->add_option("--data", f.dir, "witness directory")->required();
  serve
      ->add_option("--config", f.witness_config,
                   "the logs to witness: 'origin <origin>' then 'key <vkey>' lines")
      ->required();
  serve->add_option("--listen", f.witness_server.listen, "HOST:PORT (port 0: any free port)");
}

int RunCli(int argc, char** argv) {
  // Everything this process creates (the data directory, the store's files, keys, tokens,
  // reports, snapshots, bundles) is its user's alone, whatever umask it was started with.
  ::umask(077);
  CLI::App app{"fundledger: a tamper-evident ledger for public money"};
  app.require_subcommand(1);
  Flags flags;
  CommandTable table(app, flags);
  AddLogCommands(app, table, flags);
  AddStateCommands(table, flags);
  AddServiceCommands(app, table, flags);
  AddDataCommands(table, flags);
  AddAuditCommands(app, table, flags);
  AddWitnessCommands(app, table, flags);
  AddBackupCommands(table, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUnusable;
  }
  return table.Run();
}

}  // namespace fundledger
