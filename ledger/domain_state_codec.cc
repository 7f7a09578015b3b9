#include "ledger/domain_state_codec.h"

#include <charconv>
#include <map>

#include "ledger/binary_codec.h"

namespace fundledger {
namespace {

// Encoded sizes (binary_codec.h): every integer takes 8 bytes, a u8 one, a string at least its
// 8-byte length. The fewest bytes a record can take bounds the count read before a list of them.
constexpr size_t kIntBytes = 8;
constexpr size_t kU8Bytes = 1;
constexpr size_t kStrBytesMin = kIntBytes;
constexpr size_t kListBytesMin = kIntBytes;  // a count and nothing after it
constexpr size_t kFundBytesMin = 4 * kStrBytesMin + 4 * kListBytesMin + 2 * kU8Bytes;
constexpr size_t kLotteryBucketBytesMin = 2 * kStrBytesMin;
constexpr size_t kProgramBytesMin =
    2 * kStrBytesMin + 2 * kU8Bytes + 2 * kListBytesMin + 4 * kIntBytes;
constexpr size_t kStandardTermBytesMin = 4 * kIntBytes + kStrBytesMin;
constexpr size_t kBeneficiaryBytesMin =
    5 * kStrBytesMin + 4 * kIntBytes + 2 * kU8Bytes + kListBytesMin;
constexpr size_t kStatusChangeBytes = 2 * kIntBytes + kU8Bytes;
constexpr size_t kKeyedListBytesMin = kStrBytesMin + kListBytesMin;  // enrollments, programs_of
constexpr size_t kEnrollmentTermBytesMin = 4 * kIntBytes + kStrBytesMin;
constexpr size_t kBalanceBytesMin = kStrBytesMin + 2 * kIntBytes;
constexpr size_t kBatchBytesMin = 4 * kStrBytesMin + 7 * kIntBytes + kU8Bytes + kListBytesMin;
constexpr size_t kLineBytesMin = 2 * kStrBytesMin + 3 * kIntBytes + kU8Bytes;
constexpr size_t kSlotBytesMin = 2 * kStrBytesMin + kIntBytes;
constexpr size_t kCorrectionBytesMin = 6 * kIntBytes + kStrBytesMin + 2 * kU8Bytes;
constexpr size_t kLineHistoryBytesMin = kStrBytesMin + 3 * kIntBytes;
constexpr size_t kCommitmentBytesMin = 2 * kStrBytesMin;
constexpr size_t kReversibleBytesMin = kIntBytes + kListBytesMin;
constexpr size_t kPostingBytesMin = kStrBytesMin + 2 * kIntBytes;
constexpr size_t kDisclosureBytesMin = 4 * kStrBytesMin + 3 * kIntBytes;
constexpr size_t kKeyBytesMin = 3 * kStrBytesMin + 3 * kIntBytes;
static_assert(kFundBytesMin == 66 && kProgramBytesMin == 66 && kStandardTermBytesMin == 40 &&
                  kBeneficiaryBytesMin == 82 && kEnrollmentTermBytesMin == 40 &&
                  kBatchBytesMin == 97 && kLineBytesMin == 41 && kDisclosureBytesMin == 56 &&
                  kCorrectionBytesMin == 58 && kLineHistoryBytesMin == 32,
              "record sizes follow the format in the header");

// Enumerations stored as their numbers: reordering one would change what old bytes mean.
static_assert(static_cast<uint8_t>(LineState::kPending) == 0 &&
                  static_cast<uint8_t>(LineState::kPaid) == 1 &&
                  static_cast<uint8_t>(LineState::kReturned) == 2 &&
                  static_cast<uint8_t>(LineState::kReissued) == 3 &&
                  static_cast<uint8_t>(LineState::kReversed) == 4 &&
                  static_cast<uint8_t>(LineState::kRecovered) == 5 &&
                  static_cast<uint8_t>(LineState::kRejected) == 6,
              "LineState numbers are stored in snapshots");
static_assert(static_cast<uint8_t>(CorrectionKind::kReturn) == 0 &&
                  static_cast<uint8_t>(CorrectionKind::kReissue) == 1 &&
                  static_cast<uint8_t>(CorrectionKind::kRecovery) == 2,
              "CorrectionKind numbers are stored in snapshots");
static_assert(kNoCorrection == UINT64_MAX, "a line with no standing correction is stored so");
static_assert(static_cast<uint8_t>(BatchStatus::kPrepared) == 0 &&
                  static_cast<uint8_t>(BatchStatus::kApproved) == 1 &&
                  static_cast<uint8_t>(BatchStatus::kRejected) == 2,
              "BatchStatus numbers are stored in snapshots");
static_assert(kHashBytes == 32, "an id commitment is a SHA-256");

template <typename Set>
void SaveStrings(BinaryWriter& w, const Set& set) {
  w.U64(set.size());
  for (const std::string& v : set) w.Str(v);
}
template <typename Set>
void LoadStrings(BinaryReader& r, Set& set) {
  for (uint64_t n = r.Count(kStrBytesMin); n > 0 && r.ok(); --n) set.insert(set.end(), r.Str());
}

// A hash map's entries in key order, by pointer: snapshot bytes must not depend on hashing.
template <typename Map>
std::map<std::string_view, const typename Map::mapped_type*> Sorted(const Map& map) {
  std::map<std::string_view, const typename Map::mapped_type*> out;
  for (const auto& [k, v] : map) out.emplace(k, &v);
  return out;
}

void SaveFunds(BinaryWriter& w, const DomainState& s) {
  w.U64(s.funds.size());
  for (const auto& [id, f] : s.funds) {
    w.Str(id);
    w.Str(f.name);
    w.U8(static_cast<uint8_t>(f.kind));
    w.Str(f.organisation);
    SaveStrings(w, f.programs);
    SaveStrings(w, f.purposes);
    w.Str(f.bank_account_token);
    SaveStrings(w, f.buckets);
    w.U8(f.closed);
    w.U64(f.lottery_buckets.size());
    for (const auto& [bucket, category] : f.lottery_buckets) {
      w.Str(bucket);
      w.Str(category);
    }
  }
}
void LoadFunds(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kFundBytesMin); n > 0 && r.ok(); --n) {
    FundState& f = s.funds[r.Str()];
    f.name = r.Str();
    f.kind = static_cast<fb::FundKind>(r.U8());
    f.organisation = r.Str();
    LoadStrings(r, f.programs);
    LoadStrings(r, f.purposes);
    f.bank_account_token = r.Str();
    LoadStrings(r, f.buckets);
    f.closed = r.U8() != 0;
    for (uint64_t b = r.Count(kLotteryBucketBytesMin); b > 0 && r.ok(); --b) {
      std::string bucket = r.Str();
      f.lottery_buckets[bucket] = r.Str();
    }
  }
}

void SavePrograms(BinaryWriter& w, const DomainState& s) {
  w.U64(s.programs.size());
  for (const auto& [id, p] : s.programs) {
    w.Str(id);
    w.Str(p.name);
    w.U8(static_cast<uint8_t>(p.category));
    w.U8(static_cast<uint8_t>(p.period));
    w.U64(p.terms.size());
    for (const StandardTerm& t : p.terms) {
      w.I32(t.effective_month);
      w.I64(t.standard_fen);
      w.I64(t.cap_fen);
      w.U64(t.index);
      w.Str(t.document);
    }
    SaveStrings(w, p.excludes);
    w.I32(p.age_min_years);
    w.I32(p.age_max_years);
    w.I32(p.payments_max);
    w.I32(p.payments_window_months);
  }
}
void LoadPrograms(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kProgramBytesMin); n > 0 && r.ok(); --n) {
    ProgramState& p = s.programs[r.Str()];
    p.name = r.Str();
    p.category = static_cast<fb::ProgramCategory>(r.U8());
    p.period = static_cast<fb::PaymentPeriod>(r.U8());
    for (uint64_t t = r.Count(kStandardTermBytesMin); t > 0 && r.ok(); --t) {
      StandardTerm term;
      term.effective_month = r.I32();
      term.standard_fen = r.I64();
      term.cap_fen = r.I64();
      term.index = r.U64();
      term.document = r.Str();
      p.terms.push_back(std::move(term));
    }
    LoadStrings(r, p.excludes);
    p.age_min_years = r.I32();
    p.age_max_years = r.I32();
    p.payments_max = r.I32();
    p.payments_window_months = r.I32();
  }
}

void SaveBeneficiaries(BinaryWriter& w, const DomainState& s) {
  w.U64(s.beneficiaries.size());
  for (const auto& [id, b] : s.beneficiaries) {
    w.Str(id);
    w.Str(b.household);
    w.Str(b.region);
    w.Bytes(b.id_commitment);
    w.I32(b.birth_month);
    w.I32(b.birth_date);
    w.U8(static_cast<uint8_t>(b.payee_role));
    w.Bytes(b.bank_account_token);
    w.I32(b.registered_date);
    w.U64(b.statuses.size());
    for (const StatusChange& c : b.statuses) {
      w.I32(c.effective_date);
      w.U8(static_cast<uint8_t>(c.status));
      w.U64(c.index);
    }
    w.U8(b.erased);
    w.U64(b.registered_index);
  }
}
void LoadBeneficiaries(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kBeneficiaryBytesMin); n > 0 && r.ok(); --n) {
    BeneficiaryState& b = s.beneficiaries[r.Str()];
    b.household = r.Str();
    b.region = r.Str();
    b.region_name = s.names.Intern(b.region);
    std::string c = r.Str();
    if (c.size() == kHashBytes) std::copy(c.begin(), c.end(), b.id_commitment.begin());
    b.birth_month = r.I32();
    b.birth_date = r.I32();
    b.payee_role = static_cast<fb::PayeeRole>(r.U8());
    std::string token = r.Str();
    b.bank_account_token.assign(token.begin(), token.end());
    b.registered_date = r.I32();
    for (uint64_t t = r.Count(kStatusChangeBytes); t > 0 && r.ok(); --t) {
      StatusChange sc;
      sc.effective_date = r.I32();
      sc.status = static_cast<fb::BeneficiaryStatus>(r.U8());
      sc.index = r.U64();
      b.statuses.push_back(sc);
    }
    b.erased = r.U8() != 0;
    b.registered_index = r.U64();
  }
}

void SaveEnrollments(BinaryWriter& w, const DomainState& s) {
  // Held by interned ids; written by name, in the order of the names' key.
  std::map<std::string, const EnrollmentTerms*> keyed;
  s.enrollments.ForEach([&](EnrollmentId id, const EnrollmentTerms& terms) {
    keyed.emplace(EnrollmentKey(s.names[id.beneficiary], s.names[id.program]), &terms);
  });
  w.U64(keyed.size());
  for (const auto& [key, terms] : keyed) {
    w.Str(key);
    w.U64(terms->size());
    for (const EnrollmentTerm& t : *terms) {
      w.I32(t.from_month);
      w.I32(t.to_month);
      w.I64(t.monthly_amount_fen);
      w.I32(t.age_extension_to_month);
      w.Str(t.age_extension_doc);
    }
  }
  w.U64(s.programs_of.size());
  for (const auto& [ben, programs] : Sorted(s.programs_of)) {
    w.Str(ben);
    SaveStrings(w, *programs);
  }
}
Status LoadEnrollments(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kKeyedListBytesMin); n > 0 && r.ok(); --n) {
    const std::string key = r.Str();  // beneficiary \x1f program
    const size_t split = key.find('\x1f');
    if (!r.ok()) break;  // reported with the rest of a truncated state
    if (split == std::string::npos) return Corruption("an enrollment in the state is malformed");
    EnrollmentTerms& terms = s.enrollments.GetOrAdd(
        EnrollmentId{s.names.Intern(std::string_view(key).substr(0, split)),
                     s.names.Intern(std::string_view(key).substr(split + 1))});
    for (uint64_t t = r.Count(kEnrollmentTermBytesMin); t > 0 && r.ok(); --t) {
      EnrollmentTerm term;
      term.from_month = r.I32();
      term.to_month = r.I32();
      term.monthly_amount_fen = r.I64();
      term.age_extension_to_month = r.I32();
      term.age_extension_doc = r.Str();
      terms.push_back(std::move(term));
    }
  }
  for (uint64_t n = r.Count(kKeyedListBytesMin); n > 0 && r.ok(); --n) {
    std::vector<std::string>& programs = s.programs_of[r.Str()];
    LoadStrings(r, programs);
  }
  return Status::Ok();
}

void SaveBalances(BinaryWriter& w, const DomainState& s) {
  w.U64(s.accounts.size());
  for (const auto& [account, b] : s.accounts.SortedByName()) {
    w.Str(account);
    w.I64(b->posted_fen);
    w.I64(b->pending_fen);
  }
}
void LoadBalances(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kBalanceBytesMin); n > 0 && r.ok(); --n) {
    bool added = false;
    Balance& b = s.accounts.GetOrAdd(s.accounts.Intern(r.Str()), &added);
    b.posted_fen = r.I64();
    b.pending_fen = r.I64();
  }
}

void SaveBatches(BinaryWriter& w, const DomainState& s) {
  w.U64(s.batches.size());
  for (const auto& [id, b] : s.batches) {
    w.Str(id);
    w.Str(b.maker);
    w.Str(b.fund);
    w.Str(b.bucket);
    w.I32(b.period);
    w.U64(b.prepared_index);
    w.U64(b.decided_index);
    w.U8(static_cast<uint8_t>(b.status));
    w.I64(b.total_fen);
    w.U64(b.chunks);
    w.U64(b.chunks_seen);
    w.U64(b.lines.size());
    for (const BatchLine& l : b.lines) {
      w.U64(l.line_no);
      w.Str(s.names[l.beneficiary]);
      w.Str(s.names[l.program]);
      w.I32(l.period);
      w.I64(l.amount_fen);
      w.U8(static_cast<uint8_t>(l.state));
    }
  }
}
void LoadBatches(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kBatchBytesMin); n > 0 && r.ok(); --n) {
    BatchState& b = s.batches[r.Str()];
    b.maker = r.Str();
    b.fund = r.Str();
    b.bucket = r.Str();
    b.period = r.I32();
    b.prepared_index = r.U64();
    b.decided_index = r.U64();
    b.status = static_cast<BatchStatus>(r.U8());
    b.total_fen = r.I64();
    b.chunks = static_cast<uint32_t>(r.U64());
    b.chunks_seen = static_cast<uint32_t>(r.U64());
    for (uint64_t l = r.Count(kLineBytesMin); l > 0 && r.ok(); --l) {
      BatchLine line;
      line.line_no = static_cast<uint32_t>(r.U64());
      line.beneficiary = s.names.Intern(r.Str());
      line.program = s.names.Intern(r.Str());
      line.period = r.I32();
      line.amount_fen = r.I64();
      line.state = static_cast<LineState>(r.U8());
      b.AddLine(line);
    }
  }
}

void SaveSlots(BinaryWriter& w, const DomainState& s) {
  std::map<std::string, SlotHolder> slots;  // by the slot as text: the order does not depend on ids
  s.slots.ForEach([&](const SlotKey& slot, const SlotHolder& holder) {
    slots.emplace(PaymentSlotKey(s.names[slot.beneficiary], s.names[slot.program], slot.period),
                  holder);
  });
  w.U64(slots.size());
  for (const auto& [slot, holder] : slots) {
    w.Str(slot);
    w.Str(s.names[holder.batch]);
    w.U64(holder.line_no);
  }
}
Status LoadSlots(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kSlotBytesMin); n > 0 && r.ok(); --n) {
    std::string text = r.Str();  // beneficiary \x1f program \x1f period
    size_t a = text.find('\x1f'), b = a == std::string::npos ? a : text.find('\x1f', a + 1);
    std::string batch = r.Str();
    uint32_t line_no = static_cast<uint32_t>(r.U64());
    if (b == std::string::npos) return Corruption("a payment slot in the state is malformed");
    int32_t period = 0;
    auto [end, ec] = std::from_chars(text.data() + b + 1, text.data() + text.size(), period);
    if (ec != std::errc() || end != text.data() + text.size())
      return Corruption("a payment slot in the state is malformed");
    SlotKey slot{s.names.Intern(std::string_view(text).substr(0, a)),
                 s.names.Intern(std::string_view(text).substr(a + 1, b - a - 1)), period};
    s.slots.Restore(slot, SlotHolder{s.names.Intern(batch), line_no});
  }
  return Status::Ok();
}

void SaveCorrections(BinaryWriter& w, const DomainState& s) {
  std::map<uint64_t, const Correction*> corrections;  // by entry index
  s.corrections.ForEachCorrection(
      [&](uint64_t index, const Correction& c) { corrections.emplace(index, &c); });
  w.U64(corrections.size());
  for (const auto& [index, c] : corrections) {
    w.U64(index);
    w.Str(s.names[c->line.batch]);
    w.U64(c->line.line_no);
    w.U8(static_cast<uint8_t>(c->kind));
    w.U8(static_cast<uint8_t>(c->from));
    w.I64(c->amount_fen);
    w.I64(c->before.recovered_fen);
    w.U64(c->before.latest);
  }
  std::map<std::pair<std::string_view, uint32_t>, LineHistory> histories;  // by batch, line
  s.corrections.ForEachHistory([&](const LineRef& line, const LineHistory& h) {
    histories.emplace(std::pair(std::string_view(s.names[line.batch]), line.line_no), h);
  });
  w.U64(histories.size());
  for (const auto& [line, h] : histories) {
    w.Str(line.first);
    w.U64(line.second);
    w.I64(h.recovered_fen);
    w.U64(h.latest);
  }
}
void LoadCorrections(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kCorrectionBytesMin); n > 0 && r.ok(); --n) {
    uint64_t index = r.U64();
    Correction c;
    c.line.batch = s.names.Intern(r.Str());
    c.line.line_no = static_cast<uint32_t>(r.U64());
    c.kind = static_cast<CorrectionKind>(r.U8());
    c.from = static_cast<LineState>(r.U8());
    c.amount_fen = r.I64();
    c.before.recovered_fen = r.I64();
    c.before.latest = r.U64();
    s.corrections.Restore(index, c);
  }
  for (uint64_t n = r.Count(kLineHistoryBytesMin); n > 0 && r.ok(); --n) {
    LineRef line;
    line.batch = s.names.Intern(r.Str());
    line.line_no = static_cast<uint32_t>(r.U64());
    LineHistory h;
    h.recovered_fen = r.I64();
    h.latest = r.U64();
    s.corrections.Restore(line, h);
  }
}

void SaveCommitments(BinaryWriter& w, const DomainState& s) {
  w.U64(s.commitments.size());
  for (const auto& [c, ben] : Sorted(s.commitments)) {
    w.Str(c);
    w.Str(*ben);
  }
}
void LoadCommitments(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kCommitmentBytesMin); n > 0 && r.ok(); --n) {
    std::string c = r.Str();
    s.commitments[c] = r.Str();
  }
}

void SaveReversals(BinaryWriter& w, const DomainState& s) {
  w.U64(s.reversible.size());
  for (uint64_t index : s.reversible.SortedIndices()) {
    w.U64(index);
    std::vector<Posting> postings = s.ReversiblePostings(index);
    w.U64(postings.size());
    for (const Posting& p : postings) {
      w.Str(p.account);
      w.I64(p.posted_delta_fen);
      w.I64(p.pending_delta_fen);
    }
  }
  w.U64(s.reversed.size());
  for (uint64_t i : s.reversed) w.U64(i);
}
void LoadReversals(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kReversibleBytesMin); n > 0 && r.ok(); --n) {
    uint64_t index = r.U64();
    std::vector<Posting> postings;
    for (uint64_t p = r.Count(kPostingBytesMin); p > 0 && r.ok(); --p) {
      const AccountId account = s.accounts.Intern(r.Str());
      const int64_t posted = r.I64();
      postings.push_back(s.accounts.PostingTo(account, posted, r.I64()));
    }
    if (r.ok() && !s.reversible.Contains(index)) s.reversible.Add(index, postings);
  }
  for (uint64_t n = r.Count(kIntBytes); n > 0 && r.ok(); --n) s.reversed.insert(r.U64());
}

void SaveDisclosures(BinaryWriter& w, const DomainState& s) {
  w.U64(s.disclosures.size());
  for (const Disclosure& d : s.disclosures) {
    w.Str(d.organisation);
    w.Str(d.fund);
    w.Str(d.period);
    w.Str(d.schedule_item);
    w.U64(d.index);
    w.I64(d.timestamp_ms);
    w.U64(d.corrects_index);
  }
}
void LoadDisclosures(BinaryReader& r, DomainState& s) {
  for (uint64_t n = r.Count(kDisclosureBytesMin); n > 0 && r.ok(); --n) {
    Disclosure d;
    d.organisation = r.Str();
    d.fund = r.Str();
    d.period = r.Str();
    d.schedule_item = r.Str();
    d.index = r.U64();
    d.timestamp_ms = r.I64();
    d.corrects_index = r.U64();
    s.disclosures.push_back(std::move(d));
  }
}

void SaveKeys(BinaryWriter& w, const ActorKeys& keys) {
  w.U64(keys.keys().size());
  for (const auto& [id, k] : keys.keys()) {
    w.Str(id);
    w.Str(k.actor);
    w.U64(k.roles.size());
    for (fb::Role role : k.roles) w.U8(static_cast<uint8_t>(role));
    w.Bytes(k.verifier.public_key());
    w.U64(k.registered_index);
    w.U64(k.revoked_index.value_or(UINT64_MAX));
  }
  w.U64(keys.required_from().value_or(UINT64_MAX));
  w.U64(keys.batch_signers().size());
  for (const auto& [batch, key] : keys.batch_signers()) {
    w.Str(batch);
    w.Str(key);
  }
}
void LoadKeys(BinaryReader& r, ActorKeys& keys) {
  std::map<std::string, ActorKeys::Key> loaded;
  for (uint64_t n = r.Count(kKeyBytesMin); n > 0 && r.ok(); --n) {
    std::string id = r.Str();
    ActorKeys::Key k;
    k.actor = r.Str();
    for (uint64_t m = r.Count(1); m > 0 && r.ok(); --m) k.roles.push_back(fb::Role(r.U8()));
    std::string pk = r.Str();
    if (Result<Ed25519PublicKey> key = Ed25519PublicKeyFromBytes(AsBytes(pk)); key.ok())
      k.verifier = *key;
    k.registered_index = r.U64();
    if (uint64_t revoked = r.U64(); revoked != UINT64_MAX) k.revoked_index = revoked;
    loaded.emplace(std::move(id), std::move(k));
  }
  uint64_t from = r.U64();
  std::map<std::string, std::string> signers;
  for (uint64_t n = r.Count(2 * kIntBytes); n > 0 && r.ok(); --n) {
    std::string batch = r.Str();
    signers[batch] = r.Str();
  }
  keys.Restore(std::move(loaded), from == UINT64_MAX ? std::nullopt : std::optional(from),
               std::move(signers));
}

}  // namespace

std::string EncodeDomainState(const DomainState& s) {
  BinaryWriter w;
  w.U64(s.next_index);
  SaveFunds(w, s);
  SavePrograms(w, s);
  SaveBeneficiaries(w, s);
  SaveEnrollments(w, s);
  SaveBalances(w, s);
  SaveBatches(w, s);
  SaveSlots(w, s);
  SaveCorrections(w, s);
  SaveCommitments(w, s);
  SaveReversals(w, s);
  SaveStrings(w, s.erased_subjects);
  SaveDisclosures(w, s);
  SaveKeys(w, s.keys);
  return std::move(w.data());
}

Result<DomainState> DecodeDomainState(std::string_view bytes) {
  BinaryReader r(bytes);
  DomainState s;
  s.next_index = r.U64();
  LoadFunds(r, s);
  LoadPrograms(r, s);
  LoadBeneficiaries(r, s);
  for (const auto& [id, b] : s.beneficiaries) s.IndexBeneficiary(id);
  FL_RETURN_IF_ERROR(LoadEnrollments(r, s));
  LoadBalances(r, s);
  LoadBatches(r, s);
  FL_RETURN_IF_ERROR(LoadSlots(r, s));
  LoadCorrections(r, s);
  LoadCommitments(r, s);
  LoadReversals(r, s);
  LoadStrings(r, s.erased_subjects);
  LoadDisclosures(r, s);
  LoadKeys(r, s.keys);
  if (!r.ok() || !r.done())
    return Corruption("the domain state in the snapshot is truncated or malformed");
  return s;
}

}  // namespace fundledger
