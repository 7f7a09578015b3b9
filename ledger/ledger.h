// Ledger: the command API of fundledger. Opens a data directory's log, replays it into the
// domain (and any read models registered as observers), installs the domain as the log's
// commit hook, and turns typed domain events into submissions.
//
//   auto ledger = Ledger::Open(dir, {});
//   fb::AppropriatedT a; ...;
//   Result<AppendResult> r = (*ledger)->Submit({"clerk.li", fb::Role::maker}, "key-1", {a});
//   if (!r.ok()) report(r.status());   // rule code, field, line
//
// Thread safety: Submit and the queries may be called from any thread.
#pragma once

#include <memory>

#include "ledger/domain.h"
#include "ledger/vault.h"

namespace fundledger {

struct Actor {
  std::string name;
  fb::Role role = fb::Role::maker;
};

struct LedgerOptions {
  LogOptions log;
  std::string vault_key_path;             // default: <data dir>/vault.key
  std::vector<EntryObserver*> observers;  // read models, fed in log order; must outlive the ledger
  // Helper threads of the domain's pool (large roll checks and approvals, replay): see domain.h.
  size_t domain_helper_threads = kDomainHelperThreadsDefault;
  // Called before the replay on open: may restore the domain and observers from a snapshot
  // and return the index to replay from (0: everything).
  std::function<Result<uint64_t>(Domain&, const Log&)> restore;
  // Called after the replay on open with the observers fed; may refuse the open.
  std::function<Status(const Log&, const Domain&)> after_replay;
};

// One line of a disbursement roll, before it is packed into chunks.
struct RollLine {
  uint32_t line_no = 0;
  std::string beneficiary;
  std::string program;
  int32_t period = 0;
  int64_t amount_fen = 0;
};

class Ledger {
 public:
  static Result<std::unique_ptr<Ledger>> Create(const std::string& data_dir,
                                                std::string_view origin,
                                                LedgerOptions options = {});
  static Result<std::unique_ptr<Ledger>> Open(const std::string& data_dir,
                                              LedgerOptions options = {});
  // Cluster mode: a replica's data directory from the log of record's genesis entry and first
  // checkpoint (Log::CreateReplica).
  static Result<std::unique_ptr<Ledger>> CreateReplica(const std::string& data_dir,
                                                       const Bytes& genesis,
                                                       const std::string& checkpoint_note,
                                                       LedgerOptions options = {});
  ~Ledger();

  Status Close();

  // Appends the events as one atomic submission. Checks fields first (InvalidArgument with the
  // field and the 1-based position), then the domain checks its rules on the writer thread.
  Result<AppendResult> Submit(const Actor& actor, const std::string& idempotency_key,
                              std::vector<DomainEvent> events, std::vector<VaultWrite> vault = {});

  // Registers a person: the ID number and bank account become keyed commitments in the
  // entry; the personal data goes to the vault in the same commit.
  Result<AppendResult> RegisterBeneficiary(const Actor& actor, const std::string& idempotency_key,
                                           fb::BeneficiaryRegisteredT event,
                                           const PersonalData& person);
  // Registers many people in one atomic submission (imports, the demo city).
  Result<AppendResult> RegisterBeneficiaries(
      const Actor& actor, const std::string& idempotency_key,
      std::vector<std::pair<fb::BeneficiaryRegisteredT, PersonalData>> people);
  // Prepares a roll of any size up to kBatchLinesMax, split into chunk entries.
  Result<AppendResult> PrepareBatch(const Actor& actor, const std::string& idempotency_key,
                                    const std::string& batch_id, const std::string& fund,
                                    const std::string& bucket, int32_t period,
                                    const std::string& document,
                                    const std::vector<RollLine>& lines);
  // Destroys a person's vault key and appends an Erased entry, atomically.
  Result<AppendResult> Erase(const Actor& actor, const std::string& idempotency_key,
                             const std::string& subject, const std::string& reason);
  Result<PersonalData> ReadPersonalData(const std::string& subject) const;

  // Cluster mode's followers: stores entries committed elsewhere, which the caller verified, then
  // applies them to the domain and its observers as a replay does (no rule checks: they are
  // facts). Readers see the entries once durable, and their effects all at once.
  Result<AppendResult> ApplyReplicated(ReplicatedGroup group);

  Log& log() { return *log_; }
  const Log& log() const { return *log_; }
  const Domain& domain() const { return *domain_; }
  const Vault& vault() const { return *vault_; }

 private:
  Ledger() = default;
  static Result<std::unique_ptr<Ledger>> Finish(std::unique_ptr<Log> log,
                                                const std::string& data_dir, LedgerOptions options,
                                                bool create);

  std::unique_ptr<Log> log_;
  std::unique_ptr<Domain> domain_;
  std::optional<Vault> vault_;
};

// Packs roll lines into DisbursementBatchPrepared chunks of at most kBatchChunkLinesMax lines.
std::vector<fb::DisbursementBatchPreparedT> PackBatch(const std::string& batch_id,
                                                      const std::string& fund,
                                                      const std::string& bucket, int32_t period,
                                                      const std::string& document,
                                                      const std::vector<RollLine>& lines);

}  // namespace fundledger
