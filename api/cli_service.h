// The subcommands of `fundledger` that run the service or change the ledger: serve, token,
// import, post, erase, demo; and those that print what it holds for people: export, disclose.
// Each returns a process exit code (cli_exit.h). Those that write need the server stopped.
#pragma once

#include <string>

#include "api/http_server.h"
#include "api/open_data.h"

namespace fundledger {

struct ServeFlags {
  std::string dir;
  ServerOptions server;
  bool public_log = false;
  std::string vault_key;
  bool quiet = false;                  // no request log lines
  int64_t checkpoint_interval_ms = 0;  // 0: a signed checkpoint in every commit
  std::string witness_policy;          // a C2SP tlog-policy: witnesses to ask; empty: none
  OpenDataPublisher open_data;         // who publishes the open-data exports (api/open_data.h)
  // The background scrub (replay/store_scrub.h): seconds from one pass's end to the next, and
  // entries verified between pauses.
  int64_t scrub_interval_s = 6 * 3600;
  uint64_t scrub_entries_per_step = 16'384;
  std::string cluster;  // cluster mode: the cluster file (api/cluster_node.h)
};
int CmdServe(const ServeFlags& flags);
// serve --cluster (cli_cluster.cc).
int CmdServeCluster(const ServeFlags& flags);

// roll-city (cli_cluster.cc): the roll benchmarks' city (city_builder.h PostRollCity) in a new
// ledger at `dir`, or, with `cluster`, in a cluster's empty log as its first writer.
struct RollCityFlags {
  std::string dir, cluster, origin = "bench.fundledger.local";
  size_t people = 0;
};
int CmdRollCity(const RollCityFlags& flags);

int CmdTokenAdd(const std::string& dir, const std::string& actor, const std::string& role,
                const std::string& org);
int CmdTokenRevoke(const std::string& dir, const std::string& id_or_actor);
int CmdTokenList(const std::string& dir);

struct ImportFlags {
  std::string dir;
  std::string file;
  std::string fund;
  std::string bucket = "general";
  std::string period;
  std::string batch_id;
  std::string actor = "clerk";
  std::string vault_key;
  std::string signing_key;  // the clerk's key file; required once the ledger requires signing
};
int CmdImport(const ImportFlags& flags);

// what: "balances", "payments" (--period), "beneficiaries".
// "360giving" and "iati" need the publisher's org-id (api/open_data.h).
int CmdExport(const std::string& dir, const std::string& what, const std::string& period,
              const OpenDataPublisher& publisher = {});

// Appends one event given as JSON (the same body the API takes), as `actor` in `role`.
int CmdPost(const std::string& dir, const std::string& event_type, const std::string& json,
            const std::string& actor, const std::string& role, const std::string& key,
            const std::string& signing_key = {});

// Destroys a person's personal data in the vault and appends the Erased entry; the log still
// verifies. subject: a beneficiary id, or donor:<id>.
int CmdErase(const std::string& dir, const std::string& subject, const std::string& reason,
             const std::string& actor, const std::string& vault_key,
             const std::string& signing_key = {});

struct DiscloseFlags {
  std::string dir, fund, org, project, period, format = "json", lang = "zh";
  bool list = false;
};
// A disclosure report computed from the log at its latest checkpoint (a preview: publishing
// is POST /v1/disclosures), or --list of the funds and organisations one can report on.
int CmdDisclose(const DiscloseFlags& flags);

struct DemoFlags {
  std::string dir;
  std::string origin = "demo.fundledger.local";
  uint64_t seed = 2025;
  int people = 20'000;
  int months = 12;
  // The staff's keys are registered first, then SigningRequired: every later command must be
  // signed. Their key files: DemoStaffKeyFile.
  bool require_signing = true;
};
// Where `demo` writes a member of staff's signing key (0600): DIR.keys/staff/ACTOR.key, beside
// the vault key and outside the data directory, so a copy of DIR signs nothing.
std::string DemoStaffKeyFile(const std::string& dir, const std::string& actor);
int CmdDemo(const DemoFlags& flags);

}  // namespace fundledger
