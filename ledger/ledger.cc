#include "ledger/ledger.h"

#include <rocksdb/db.h>

#include <unordered_map>

#include "ledger/entry_codec.h"
#include "ledger/id_number.h"
#include "ledger/rule_code.h"

namespace fundledger {

Result<std::unique_ptr<Ledger>> Ledger::Create(const std::string& data_dir, std::string_view origin,
                                               LedgerOptions options) {
  FL_ASSIGN_OR_RETURN(std::unique_ptr<Log> log, Log::Create(data_dir, origin, options.log));
  return Finish(std::move(log), data_dir, std::move(options), /*create=*/true);
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& data_dir, LedgerOptions options) {
  FL_ASSIGN_OR_RETURN(std::unique_ptr<Log> log, Log::Open(data_dir, options.log));
  return Finish(std::move(log), data_dir, std::move(options), /*create=*/false);
}

Result<std::unique_ptr<Ledger>> Ledger::CreateReplica(const std::string& data_dir,
                                                      const Bytes& genesis,
                                                      const std::string& checkpoint_note,
                                                      LedgerOptions options) {
  FL_ASSIGN_OR_RETURN(std::unique_ptr<Log> log,
                      Log::CreateReplica(data_dir, genesis, checkpoint_note, options.log));
  return Finish(std::move(log), data_dir, std::move(options), /*create=*/true);
}

Result<AppendResult> Ledger::ApplyReplicated(ReplicatedGroup group) {
  const uint64_t applied = domain_->Read([](const DomainState& s) { return s.next_index; });
  FL_ASSIGN_OR_RETURN(AppendResult stored, log_->AppendReplicated(group));
  // A domain behind the store (an earlier group stored but not applied) replays from the store.
  if (!group.verified() || applied != stored.first_index) {
    FL_RETURN_IF_ERROR(domain_->Replay(*log_, applied));
    return stored;
  }
  FL_RETURN_IF_ERROR(ApplyVerifiedGroup(group.entries, stored.first_index));
  return stored;
}

Status Ledger::ApplyVerifiedGroup(const std::vector<Bytes>& entries, uint64_t first_index) {
  ApplyContext context;
  domain_->BeginReplay();
  Status applied;
  for (size_t k = 0; k < entries.size() && applied.ok(); ++k)
    applied = domain_->ApplyVerified(first_index + k, entries[k], context);
  Status ended = domain_->EndReplay(context);
  return applied.ok() ? ended : applied;
}

Result<std::unique_ptr<Ledger>> Ledger::Finish(std::unique_ptr<Log> log,
                                               const std::string& data_dir, LedgerOptions options,
                                               bool create) {
  std::unique_ptr<Ledger> ledger(new Ledger());
  ledger->log_ = std::move(log);
  const std::string key_path = ResolveVaultKey(data_dir, options.vault_key_path).path;
  if (!options.log.read_only) {
    Result<Vault> vault = Vault::Load(key_path, create);
    if (!vault.ok()) return vault.status();
    ledger->vault_ = std::move(vault).value();
  }
  ledger->domain_ = std::make_unique<Domain>(options.observers, ledger->log_->projections_column(),
                                             options.domain_helper_threads);
  ledger->domain_->SetOrigin(std::string(ledger->log_->origin()));
  uint64_t begin = 0;
  if (options.restore) {
    FL_ASSIGN_OR_RETURN(begin, options.restore(*ledger->domain_, *ledger->log_));
  }
  FL_RETURN_IF_ERROR(ledger->domain_->Replay(*ledger->log_, begin));
  if (options.after_replay)
    FL_RETURN_IF_ERROR(options.after_replay(*ledger->log_, *ledger->domain_));
  ledger->log_->SetCommitHook(ledger->domain_.get());
  return ledger;
}

Ledger::~Ledger() {
  Status s = Close();
  (void)s;  // callers who care call Close()
}

Status Ledger::Close() {
  if (!log_) return Status::Ok();
  Status s = log_->Close();  // drains the writer: the domain is no longer called after this
  return s;
}

Result<AppendResult> Ledger::Submit(const Actor& actor, const std::string& idempotency_key,
                                    std::vector<DomainEvent> events,
                                    std::vector<VaultWrite> vault) {
  FL_ASSIGN_OR_RETURN(std::string actor_name, NormalizeActorName(actor.name));
  Submission submission;
  submission.idempotency_key = idempotency_key;
  submission.vault = std::move(vault);
  submission.entries.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    Status fields = CheckEventFields(events[i]);
    if (!fields.ok())
      return events.size() > 1 && fields.line() == 0 ? fields.WithLine(i + 1) : fields;
    submission.entries.push_back(
        NewEntry{actor_name, actor.role, EventTypeOf(events[i]),
                 std::holds_alternative<fb::DisbursementBatchPreparedT>(events[i])
                     ? EncodePreparedChunk(std::get<fb::DisbursementBatchPreparedT>(events[i]))
                     : EncodeEvent(events[i])});
  }
  submission.decoded = std::move(events);  // the payloads were encoded from these, just now
  return SubmitEntries(actor, idempotency_key, std::move(submission));
}

Result<AppendResult> Ledger::SubmitEntries(const Actor& actor, const std::string& idempotency_key,
                                           Submission submission) {
  FL_ASSIGN_OR_RETURN(std::string actor_name, NormalizeActorName(actor.name));
  submission.idempotency_key = idempotency_key;
  std::optional<EntrySignature> signature = actor.request_signature;
  if (actor.key && !submission.entries.empty()) {
    CommandPayloadsDigest digest;
    for (const NewEntry& e : submission.entries) digest.Add(e.event_type, e.payload);
    signature =
        EntrySignature{actor.key->key_id, {}, std::string(kPayloadsRequest), digest.Finish()};
    std::string message = SignedCommandMessage(
        log_->origin(), submission.entries.front().event_type, actor_name, actor.role,
        idempotency_key, signature->request, signature->body_sha256);
    signature->signature = actor.key->key.Sign(AsBytes(message));
  }
  if (signature) {
    signature->parts = static_cast<uint32_t>(submission.entries.size());
    for (size_t k = 0; k < submission.entries.size(); ++k) {
      submission.entries[k].signature = signature;
      submission.entries[k].signature->part = static_cast<uint32_t>(k);
    }
  }
  return log_->Append(std::move(submission));
}

Result<AppendResult> Ledger::RegisterKey(const Actor& admin, const std::string& idempotency_key,
                                         const std::string& actor, std::vector<fb::Role> roles,
                                         const Ed25519PublicKey& public_key,
                                         const std::string& document) {
  FL_ASSIGN_OR_RETURN(std::string name, NormalizeActorName(actor));
  fb::ActorKeyRegisteredT e;
  e.key_id = ActorKeyId(public_key);
  e.actor = name;
  e.roles = std::move(roles);
  e.public_key.assign(public_key.begin(), public_key.end());
  e.document = document;
  return SubmitKeyEvent(admin, idempotency_key, fb::EventType::ActorKeyRegistered,
                        EncodeKeyRegistered(e));
}

Result<AppendResult> Ledger::RevokeKey(const Actor& admin, const std::string& idempotency_key,
                                       const std::string& key_id, const std::string& reason) {
  fb::ActorKeyRevokedT e;
  e.key_id = key_id;
  e.reason = reason;
  return SubmitKeyEvent(admin, idempotency_key, fb::EventType::ActorKeyRevoked,
                        EncodeKeyRevoked(e));
}

Result<AppendResult> Ledger::RequireSigning(const Actor& admin, const std::string& idempotency_key,
                                            const std::string& document) {
  fb::SigningRequiredT e;
  e.document = document;
  return SubmitKeyEvent(admin, idempotency_key, fb::EventType::SigningRequired,
                        EncodeSigningRequired(e));
}

Result<AppendResult> Ledger::SubmitKeyEvent(const Actor& admin, const std::string& idempotency_key,
                                            fb::EventType type, Bytes payload) {
  FL_RETURN_IF_ERROR(VerifyKeyEventPayload(type, payload));
  FL_ASSIGN_OR_RETURN(std::string name, NormalizeActorName(admin.name));
  Submission submission;
  submission.entries.push_back(NewEntry{name, admin.role, type, std::move(payload)});
  return SubmitEntries(admin, idempotency_key, std::move(submission));
}

Result<AppendResult> Ledger::RecordMemo(const Actor& actor, const std::string& idempotency_key,
                                        const std::string& text, const std::string& reference) {
  FL_ASSIGN_OR_RETURN(std::string name, NormalizeActorName(actor.name));
  Submission submission;
  submission.entries.push_back(
      NewEntry{name, actor.role, fb::EventType::Memo, EncodeMemo(text, reference)});
  return SubmitEntries(actor, idempotency_key, std::move(submission));
}

namespace {

// The birth date comes from the ID number: a typed birth month must agree with it (an empty
// one is filled in from it).
Status TakeBirthDate(const std::string& id_number, fb::BeneficiaryRegisteredT& event) {
  FL_ASSIGN_OR_RETURN(int32_t born, IdNumberBirthDate(id_number));
  if (event.birth_month == 0) event.birth_month = born / 100;
  if (event.birth_month != born / 100) {
    return RuleError(RuleCode::kBirthMonthMismatch,
                     "birth month " + FormatMonth(event.birth_month) +
                         " differs from the ID number's birth date " + FormatDate(born),
                     "birth_month");
  }
  event.birth_date = born;
  return Status::Ok();
}

}  // namespace

Result<AppendResult> Ledger::RegisterBeneficiary(const Actor& actor,
                                                 const std::string& idempotency_key,
                                                 fb::BeneficiaryRegisteredT event,
                                                 const PersonalData& person) {
  std::vector<std::pair<fb::BeneficiaryRegisteredT, PersonalData>> people;
  people.emplace_back(std::move(event), person);
  return RegisterBeneficiaries(actor, idempotency_key, std::move(people));
}

Result<AppendResult> Ledger::RegisterBeneficiaries(
    const Actor& actor, const std::string& idempotency_key,
    std::vector<std::pair<fb::BeneficiaryRegisteredT, PersonalData>> people) {
  if (!vault_) return Overloaded("the ledger is opened read-only: writes are refused");
  // The vault's index is checked and written under this lock, so two registrations of one ID
  // number cannot both pass the check.
  MutexLock lock(registration_mu_);
  std::vector<DomainEvent> events;
  std::vector<VaultWrite> writes;
  std::unordered_map<std::string, std::string> in_this_call;  // index row -> beneficiary
  for (size_t i = 0; i < people.size(); ++i) {
    auto& [event, person] = people[i];
    Status checked = CheckNewPerson(event, person, in_this_call);
    if (!checked.ok()) return people.size() > 1 ? checked.WithLine(i + 1) : checked;
    if (!person.bank_account.empty()) {
      Hash token = vault_->BankToken(person.bank_account);
      event.bank_account_token.assign(token.begin(), token.end());
    }
    FL_ASSIGN_OR_RETURN(Vault::SealedPerson sealed, vault_->Seal(event.beneficiary_id, person));
    event.id_commitment.assign(sealed.id_commitment.begin(), sealed.id_commitment.end());
    writes.insert(writes.end(), std::make_move_iterator(sealed.writes.begin()),
                  std::make_move_iterator(sealed.writes.end()));
    events.emplace_back(std::move(event));
  }
  return Submit(actor, idempotency_key, std::move(events), std::move(writes));
}

Status Ledger::CheckNewPerson(fb::BeneficiaryRegisteredT& event, const PersonalData& person,
                              std::unordered_map<std::string, std::string>& in_this_call) {
  FL_RETURN_IF_ERROR(TakeBirthDate(person.id_number, event));
  FL_ASSIGN_OR_RETURN(std::optional<std::string> holder,
                      vault_->FindPerson(*log_, person.id_number));
  std::string row = HexEncode(vault_->IdLookup(person.id_number));
  if (!holder) {
    auto [earlier, fresh] = in_this_call.try_emplace(row, event.beneficiary_id);
    if (!fresh) holder = earlier->second;
  }
  if (holder) {
    return RuleError(RuleCode::kDuplicatePerson,
                     "this ID number is already registered as beneficiary '" + *holder + "'",
                     "id_number");
  }
  return Status::Ok();
}

std::vector<fb::DisbursementBatchPreparedT> PackBatch(const std::string& batch_id,
                                                      const std::string& fund,
                                                      const std::string& bucket, int32_t period,
                                                      const std::string& document,
                                                      const std::vector<RollLine>& lines) {
  // Chunks close at kBatchChunkLinesMax lines or when the estimated payload nears
  // kBatchChunkBytesMax, so every chunk entry fits the 64 KiB entry limit.
  constexpr size_t kLineBytes = 24, kStringOverhead = 8;
  std::vector<fb::DisbursementBatchPreparedT> chunks;
  std::unordered_map<std::string, uint32_t> ben_index, prog_index;
  size_t estimate = 0;
  auto start_chunk = [&] {
    fb::DisbursementBatchPreparedT chunk;
    chunk.batch_id = batch_id;
    chunk.fund_id = fund;
    chunk.bucket = bucket;
    chunk.period = period;
    chunk.document = document;
    chunk.chunk = static_cast<uint32_t>(chunks.size());
    chunks.push_back(std::move(chunk));
    ben_index.clear();
    prog_index.clear();
    estimate = 512 + batch_id.size() + fund.size() + bucket.size() + document.size();
  };
  start_chunk();
  for (const RollLine& l : lines) {
    size_t cost = kLineBytes +
                  (ben_index.count(l.beneficiary) ? 0 : l.beneficiary.size() + kStringOverhead) +
                  (prog_index.count(l.program) ? 0 : l.program.size() + kStringOverhead);
    if (chunks.back().lines.size() == kBatchChunkLinesMax || estimate + cost > kBatchChunkBytesMax)
      start_chunk();
    fb::DisbursementBatchPreparedT& chunk = chunks.back();
    auto [b, b_new] =
        ben_index.try_emplace(l.beneficiary, static_cast<uint32_t>(chunk.beneficiary_ids.size()));
    if (b_new) chunk.beneficiary_ids.push_back(l.beneficiary);
    auto [p, p_new] =
        prog_index.try_emplace(l.program, static_cast<uint32_t>(chunk.program_ids.size()));
    if (p_new) chunk.program_ids.push_back(l.program);
    chunk.lines.emplace_back(l.line_no, b->second, p->second, l.period, l.amount_fen);
    estimate += kLineBytes + (b_new ? l.beneficiary.size() + kStringOverhead : 0) +
                (p_new ? l.program.size() + kStringOverhead : 0);
  }
  for (auto& c : chunks) c.chunks = static_cast<uint32_t>(chunks.size());
  return chunks;
}

namespace {

// Payload bytes of a string field: length, bytes, NUL, padding to 4.
size_t StringBytes(const std::string& s) { return 4 + ((s.size() + 1 + 3) & ~size_t{3}); }

flatbuffers::Offset<flatbuffers::String> StringOrNone(flatbuffers::FlatBufferBuilder& b,
                                                      const std::string& s) {
  return s.empty() ? 0 : b.CreateString(s);
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> StringsOrNone(
    flatbuffers::FlatBufferBuilder& b, const std::vector<std::string>& strings) {
  return strings.empty() ? 0 : b.CreateVectorOfStrings(strings);
}

}  // namespace

Bytes EncodePreparedChunk(const fb::DisbursementBatchPreparedT& chunk) {
  // The fields in the order the object API's Pack adds them: the same bytes (a test compares).
  constexpr size_t kTableBytes = 128;  // vtable, table, root offset, alignment
  // Each string vector: its offsets, and as many again of scratch while it is built.
  size_t size = kTableBytes + StringBytes(chunk.batch_id) + StringBytes(chunk.fund_id) +
                StringBytes(chunk.bucket) + StringBytes(chunk.document) +
                sizeof(fb::DisbursementLine) * (chunk.lines.size() + 1) +
                8 * (chunk.beneficiary_ids.size() + chunk.program_ids.size() + 2);
  for (const std::string& s : chunk.beneficiary_ids) size += StringBytes(s);
  for (const std::string& s : chunk.program_ids) size += StringBytes(s);
  flatbuffers::FlatBufferBuilder b(size);
  auto batch_id = StringOrNone(b, chunk.batch_id);
  auto fund_id = StringOrNone(b, chunk.fund_id);
  auto bucket = StringOrNone(b, chunk.bucket);
  auto document = StringOrNone(b, chunk.document);
  auto beneficiary_ids = StringsOrNone(b, chunk.beneficiary_ids);
  auto program_ids = StringsOrNone(b, chunk.program_ids);
  auto lines = chunk.lines.empty() ? 0 : b.CreateVectorOfStructs(chunk.lines);
  b.Finish(fb::CreateDisbursementBatchPrepared(b, batch_id, fund_id, bucket, chunk.period, document,
                                               chunk.chunk, chunk.chunks, beneficiary_ids,
                                               program_ids, lines));
  return Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

Result<AppendResult> Ledger::PrepareBatch(const Actor& actor, const std::string& idempotency_key,
                                          const std::string& batch_id, const std::string& fund,
                                          const std::string& bucket, int32_t period,
                                          const std::string& document,
                                          const std::vector<RollLine>& lines) {
  if (lines.size() > kBatchLinesMax) {
    return TooLarge("a batch holds at most 1,000,000 lines, got " + std::to_string(lines.size()));
  }
  std::vector<DomainEvent> events;
  for (auto& chunk : PackBatch(batch_id, fund, bucket, period, document, lines))
    events.emplace_back(std::move(chunk));
  return Submit(actor, idempotency_key, std::move(events));
}

Result<AppendResult> Ledger::Erase(const Actor& actor, const std::string& idempotency_key,
                                   const std::string& subject, const std::string& reason) {
  fb::ErasedT e;
  e.subject_id = subject;
  e.reason = reason;
  if (!vault_) return Overloaded("the ledger is opened read-only: writes are refused");
  MutexLock lock(registration_mu_);  // the index row read here is the one deleted
  FL_ASSIGN_OR_RETURN(std::vector<VaultWrite> writes, vault_->EraseWrites(*log_, subject));
  FL_ASSIGN_OR_RETURN(AppendResult r, Submit(actor, idempotency_key, {e}, std::move(writes)));
  // Deleted values linger in write-ahead logs and tables until flushed and compacted: do both
  // now, so the sealed key, the record and the index row are gone from disk, not only from
  // view. The erasure is committed either way; a failure here is reported.
  FL_RETURN_IF_ERROR(log_->ForgetDeletedVaultRows());
  return r;
}

Result<PersonalData> Ledger::ReadPersonalData(const std::string& subject) const {
  if (!vault_) return InvalidArgument("the ledger is opened read-only");
  return vault_->Read(*log_, subject);
}

}  // namespace fundledger
