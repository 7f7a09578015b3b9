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
#include <optional>
#include <unordered_map>

#include "crypto/mutex.h"
#include "ledger/domain.h"
#include "ledger/vault.h"

namespace fundledger {

// A person's signing key held in this process (the CLI's key file, the demo's staff): the ledger
// signs each command's payloads with it (actor_keys.h, "payloads").
struct ActorSigningKey {
  std::string key_id;  // ActorKeyId(key.public_key())
  Ed25519PrivateKey key;
};

// Who makes a command, and how it is signed: by a key held here, or by the client over its
// HTTP request (the signature it sent, checked by the domain as any other); neither: unsigned.
struct Actor {
  std::string name;
  fb::Role role = fb::Role::maker;
  std::shared_ptr<const ActorSigningKey> key = nullptr;
  std::optional<EntrySignature> request_signature = std::nullopt;  // part and parts: set here
};

struct LedgerOptions {
  LogOptions log;
  std::string vault_key_path;             // "": ResolveVaultKey (vault.h) finds it
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

  // Registers a person: the entry gets the ID number's salted commitment and the bank
  // account's keyed token; the personal data and the ID number's index row go to the vault in
  // the same commit. An ID number the index holds (a person not erased) is refused,
  // duplicate_person. An erased person's number is no longer known: registering it again
  // makes a new person.
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
  // Key entries (actor_keys.h): an admin registers or revokes a person's key, or turns signing
  // on for good.
  Result<AppendResult> RegisterKey(const Actor& admin, const std::string& idempotency_key,
                                   const std::string& actor, std::vector<fb::Role> roles,
                                   const Ed25519PublicKey& public_key, const std::string& document);
  Result<AppendResult> RevokeKey(const Actor& admin, const std::string& idempotency_key,
                                 const std::string& key_id, const std::string& reason);
  Result<AppendResult> RequireSigning(const Actor& admin, const std::string& idempotency_key,
                                      const std::string& document);

  // Appends a Memo entry: a record of something done outside the ledger (a bank file exported),
  // which moves no money and holds no personal data; signed as `actor` says.
  Result<AppendResult> RecordMemo(const Actor& actor, const std::string& idempotency_key,
                                  const std::string& text, const std::string& reference);

  // Destroys a person's vault key, record and index row and appends an Erased entry,
  // atomically; then flushes and compacts so no file of the store still holds them.
  Result<AppendResult> Erase(const Actor& actor, const std::string& idempotency_key,
                             const std::string& subject, const std::string& reason);
  Result<PersonalData> ReadPersonalData(const std::string& subject) const;

  // Cluster mode's followers: stores entries committed elsewhere, which the caller verified, then
  // applies them to the domain and its observers as a replay does (no rule checks: they are
  // facts). Readers see the entries once durable, and their effects all at once. A group with
  // the leaf hashes VerifyChain handed back (ReplicatedGroup::leaf_hashes) is stored without
  // hashing its entries again and applied from these very bytes, as verified (no second
  // FlatBuffers verification, no read back from the store).
  Result<AppendResult> ApplyReplicated(ReplicatedGroup group);

  Log& log() { return *log_; }
  const Log& log() const { return *log_; }
  const Domain& domain() const { return *domain_; }
  const Vault& vault() const { return *vault_; }

 private:
  Ledger() = default;
  // Entries the log just stored from `first_index` on, applied to the domain as a replay does,
  // from bytes that passed DecodeEntry and VerifyPayload (Domain::ApplyVerified).
  Status ApplyVerifiedGroup(const std::vector<Bytes>& entries, uint64_t first_index);
  // Appends ledger entries of one command, signed as `actor` says.
  Result<AppendResult> SubmitEntries(const Actor& actor, const std::string& idempotency_key,
                                     Submission submission);
  Result<AppendResult> SubmitKeyEvent(const Actor& admin, const std::string& idempotency_key,
                                      fb::EventType type, Bytes payload);
  static Result<std::unique_ptr<Ledger>> Finish(std::unique_ptr<Log> log,
                                                const std::string& data_dir, LedgerOptions options,
                                                bool create);

  // TakeBirthDate, then refuses an ID number the vault's index (or an earlier person of this
  // call, `in_this_call`: index row -> beneficiary) already holds.
  Status CheckNewPerson(fb::BeneficiaryRegisteredT& event, const PersonalData& person,
                        std::unordered_map<std::string, std::string>& in_this_call)
      FL_REQUIRES(registration_mu_);

  std::unique_ptr<Log> log_;
  std::unique_ptr<Domain> domain_;
  std::optional<Vault> vault_;
  Mutex registration_mu_;  // held from a registration's index check to its commit; by erase
};

// Packs roll lines into DisbursementBatchPrepared chunks of at most kBatchChunkLinesMax lines.
std::vector<fb::DisbursementBatchPreparedT> PackBatch(const std::string& batch_id,
                                                      const std::string& fund,
                                                      const std::string& bucket, int32_t period,
                                                      const std::string& document,
                                                      const std::vector<RollLine>& lines);

// The payload of one chunk, built field by field in a builder sized for it up front: the same
// bytes as EncodeEvent (the object API's Pack), without its growth copies. The roll's encoder.
Bytes EncodePreparedChunk(const fb::DisbursementBatchPreparedT& chunk);

}  // namespace fundledger
