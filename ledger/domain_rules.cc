#include "ledger/domain_rules.h"

#include <algorithm>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cassert>
#include <optional>
#include <set>

#include "ledger/entry_codec.h"
#include "ledger/rule_code.h"
#include "ledger/worker_pool.h"

namespace fundledger {
namespace {

const FundState* FindFund(const DomainState& s, const std::string& id) {
  auto it = s.funds.find(id);
  return it == s.funds.end() ? nullptr : &it->second;
}

Status OpenFund(const DomainState& s, const std::string& id, const char* field,
                const FundState** out) {
  const FundState* f = FindFund(s, id);
  if (f == nullptr)
    return RuleError(RuleCode::kUnknownFund, "fund '" + id + "' does not exist", field);
  if (f->closed) return RuleError(RuleCode::kFundClosed, "fund '" + id + "' is closed", field);
  *out = f;
  return Status::Ok();
}

// What `account` may still spend: posted less reserved, or amount_overflow.
Result<Amount> AvailableOf(const DomainState& s, std::string_view account, const char* field) {
  Result<Amount> available = s.BalanceOf(account).available();
  if (!available.ok()) return Status(available.status()).WithField(field);
  return available;
}

Status Available(const DomainState& s, const std::string& fund, const std::string& bucket,
                 Amount amount, const char* field = "amount_fen") {
  std::string account = FundAccount(fund, bucket);
  FL_ASSIGN_OR_RETURN(Amount available, AvailableOf(s, account, field));
  if (available < amount) {
    return RuleError(RuleCode::kInsufficientFunds,
                     "fund '" + fund + "' bucket '" + bucket + "' has " + available.ToYuan() +
                         " yuan available (after " + FormatFen(s.BalanceOf(account).pending_fen) +
                         " reserved), needs " + amount.ToYuan(),
                     field);
  }
  return Status::Ok();
}
Status Available(const DomainState& s, const std::string& fund, const std::string& bucket,
                 int64_t amount_fen) {
  return Available(s, fund, bucket, Amount::Fen(amount_fen));
}

// Money coming in must not overflow the receiving balance (or the external source's).
Status NoOverflow(const DomainState& s, const std::string& to, const std::string& from,
                  int64_t amount_fen) {
  Amount amount = Amount::Fen(amount_fen);
  if (!s.BalanceOf(to).posted().Plus(amount).ok() ||
      !s.BalanceOf(from).posted().Minus(amount).ok()) {
    return RuleError(RuleCode::kAmountOverflow,
                     "posting " + amount.ToYuan() + " yuan to " + to + " would overflow",
                     "amount_fen");
  }
  return Status::Ok();
}

// Restricted money is spent only on its purpose: a bucket other than "general" names it.
Status PurposeAllowed(const std::string& fund, const std::string& bucket,
                      const std::string& purpose) {
  if (bucket == kGeneralBucket || bucket == purpose) return Status::Ok();
  return RuleError(RuleCode::kRestrictedPurpose,
                   "bucket '" + bucket + "' of fund '" + fund + "' is restricted to '" + bucket +
                       "' and cannot pay for '" + purpose + "'",
                   "bucket");
}

Status LotteryCategory(const FundState& f, const std::string& fund, const std::string& category) {
  if (f.kind != fb::FundKind::lottery_welfare || f.purposes.count(category)) return Status::Ok();
  return RuleError(RuleCode::kLotteryCategory,
                   "lottery fund '" + fund + "' may only spend on its approved categories, not '" +
                       category + "'");
}

// The term of `terms` (null: none) covering `period`, or null.
const EnrollmentTerm* TermCovering(const EnrollmentTerms* terms, int32_t period) {
  if (terms == nullptr) return nullptr;
  auto t = std::find_if(terms->begin(), terms->end(),
                        [&](const EnrollmentTerm& term) { return term.Covers(period); });
  return t == terms->end() ? nullptr : &*t;
}

bool EnrolledIn(const DomainState& s, const std::string& ben_id, const std::string& program_id,
                int32_t period) {
  return TermCovering(s.EnrollmentsOf(ben_id, program_id), period) != nullptr;
}

bool Excludes(const DomainState& s, const ProgramState& prog, const std::string& program_id,
              const std::string& other) {
  auto op = s.programs.find(other);
  return prog.excludes.count(other) ||
         (op != s.programs.end() && op->second.excludes.count(program_id));
}

// Alive and active on the period's first day.
Status CheckActive(const BeneficiaryState& ben, const std::string& ben_id, int32_t period) {
  int32_t first_day = FirstDayOf(period);
  int32_t death = ben.DeathDate();
  if (death != 0 && death < first_day) {
    return RuleError(RuleCode::kDeceased,
                     "beneficiary '" + ben_id + "' died on " + FormatDate(death) + ", before " +
                         FormatMonth(period),
                     "beneficiary_id");
  }
  fb::BeneficiaryStatus status = ben.StatusOn(first_day);
  if (status != fb::BeneficiaryStatus::active) {
    return RuleError(RuleCode::kNotActive,
                     "beneficiary '" + ben_id + "' is " + fb::EnumNameBeneficiaryStatus(status) +
                         " on " + FormatDate(first_day),
                     "beneficiary_id");
  }
  return Status::Ok();
}

// A standard in force in the period, and the amount within its cap.
Status CheckStandard(const ProgramState& prog, const std::string& program_id, int32_t period,
                     int64_t amount) {
  const StandardTerm* term = prog.TermAt(period);
  if (term == nullptr) {
    return RuleError(
        RuleCode::kProgramNotEffective,
        "program '" + program_id + "' has no standard in force in " + FormatMonth(period),
        "period");
  }
  if (amount > term->cap_fen) {
    return RuleError(RuleCode::kOverCap,
                     FormatFen(amount) + " yuan is above the cap of " + FormatFen(term->cap_fen) +
                         " for '" + program_id + "' in " + FormatMonth(period),
                     "amount_fen");
  }
  return Status::Ok();
}

// The band [age_min, age_max) in completed years on the period's first day (README, "Age");
// past age_max only through an enrolment's recorded extension.
Status CheckAge(const BeneficiaryState& ben, const ProgramState& prog, const EnrollmentTerm& term,
                const std::string& ben_id, int32_t period) {
  int32_t first_day = FirstDayOf(period);
  int32_t age = ben.AgeOn(first_day);
  if (prog.age_min_years > 0 && age < prog.age_min_years) {
    return RuleError(RuleCode::kAgeLimit,
                     "beneficiary '" + ben_id + "' is not yet " +
                         std::to_string(prog.age_min_years) + " on " + FormatDate(first_day),
                     "beneficiary_id");
  }
  if (prog.age_max_years > 0 && age >= prog.age_max_years && term.age_extension_to_month < period) {
    return RuleError(RuleCode::kAgeLimit,
                     "beneficiary '" + ben_id + "' is " + std::to_string(prog.age_max_years) +
                         " or older on " + FormatDate(first_day) + ", with no extension covering " +
                         FormatMonth(period),
                     "beneficiary_id");
  }
  return Status::Ok();
}

// Never more than the enrolment approved for the month.
Status CheckEnrolledAmount(const EnrollmentTerm& term, const std::string& ben_id,
                           const std::string& program_id, int32_t period, int64_t amount) {
  if (amount <= term.monthly_amount_fen) return Status::Ok();
  return RuleError(RuleCode::kAboveEnrolledAmount,
                   FormatFen(amount) + " yuan is above the " + FormatFen(term.monthly_amount_fen) +
                       " enrolled for beneficiary '" + ben_id + "' in '" + program_id + "' for " +
                       FormatMonth(period),
                   "amount_fen");
}

// A one-off program pays a person at most PaymentsMax() times in any PaymentsWindowMonths()
// consecutive months, counting the live payments (slots held) around `period`.
Status CheckOneOffLimit(const DomainState& s, const ProgramState& prog, const std::string& ben_id,
                        const std::string& program_id, int32_t period) {
  if (prog.period != fb::PaymentPeriod::one_off) return Status::Ok();
  const int32_t window = prog.PaymentsWindowMonths(), at = MonthIndex(period);
  std::vector<int32_t> held;  // by month index, from at-window+1 through at+window-1
  held.reserve(static_cast<size_t>(2 * window - 1));
  for (int32_t m = at - window + 1; m <= at + window - 1; ++m) {
    std::optional<SlotKey> key = PaymentSlots::Find(s.names, ben_id, program_id, MonthFromIndex(m));
    held.push_back(m != at && key && s.slots.HolderOf(*key) != nullptr ? 1 : 0);
  }
  for (int32_t start = 0; start < window; ++start) {  // each window holding `period`
    int32_t paid = 1;
    for (int32_t k = start; k < start + window; ++k) paid += held[static_cast<size_t>(k)];
    if (paid > prog.PaymentsMax()) {
      return RuleError(RuleCode::kOneOffLimit,
                       "'" + program_id + "' pays one person at most " +
                           std::to_string(prog.PaymentsMax()) + " time(s) in " +
                           std::to_string(window) + " months; beneficiary '" + ben_id +
                           "' would be paid " + std::to_string(paid) + " times",
                       "period");
    }
  }
  return Status::Ok();
}

// The fund's right to pay the program: one of its programs and, from a lottery fund, a
// lottery_project program named among its approved categories.
Status CheckFundMayPay(const FundState& fund, const std::string& fund_id, const ProgramState& prog,
                       const std::string& program_id) {
  if (!fund.programs.count(program_id)) {
    return RuleError(RuleCode::kProgramNotAllowed,
                     "fund '" + fund_id + "' may not pay program '" + program_id + "'",
                     "program_id");
  }
  if (fund.kind == fb::FundKind::lottery_welfare &&
      (prog.category != fb::ProgramCategory::lottery_project || !fund.purposes.count(program_id))) {
    return RuleError(RuleCode::kLotteryCategory,
                     "lottery fund '" + fund_id +
                         "' pays only lottery_project programs among its " +
                         "approved categories, not '" + program_id + "' (" +
                         fb::EnumNameProgramCategory(prog.category) + ")",
                     "program_id");
  }
  return Status::Ok();
}

// No program the person receives in the period excludes this one, nor this one it.
Status CheckExclusions(const DomainState& s, const ProgramState& prog, const std::string& ben_id,
                       const std::string& program_id, int32_t period) {
  auto others = s.programs_of.find(ben_id);
  if (others == s.programs_of.end()) return Status::Ok();
  for (const std::string& other : others->second) {
    if (other == program_id || !EnrolledIn(s, ben_id, other, period)) continue;
    if (Excludes(s, prog, program_id, other)) {
      return RuleError(RuleCode::kExcludedCombination,
                       "'" + program_id + "' may not be combined with '" + other +
                           "', which beneficiary '" + ben_id + "' receives in " +
                           FormatMonth(period),
                       "program_id");
    }
  }
  return Status::Ok();
}

// What a roll's checks resolve once per chunk instead of once per line: each name of a
// chunk's tables as its interned id (kNoNameId: never interned, so nobody holds a slot for it),
// and for each program its state and whether the fund may pay it from the bucket.
struct RollProgram {
  NameId id = kNoNameId;
  const ProgramState* state = nullptr;  // null: not defined
  Status fund_may_pay;                  // CheckFundMayPay, then PurposeAllowed
};
struct RollChunkNames {
  std::vector<NameId> people;
  std::vector<RollProgram> programs;
};

RollChunkNames ResolveChunk(const DomainState& s, const FundState& fund,
                            const fb::DisbursementBatchPreparedT& chunk) {
  RollChunkNames out;
  out.people.reserve(chunk.beneficiary_ids.size());
  for (const std::string& id : chunk.beneficiary_ids)
    out.people.push_back(s.names.Find(id).value_or(kNoNameId));
  out.programs.reserve(chunk.program_ids.size());
  for (const std::string& id : chunk.program_ids) {
    RollProgram& p = out.programs.emplace_back();
    p.id = s.names.Find(id).value_or(kNoNameId);
    auto it = s.programs.find(id);
    if (it == s.programs.end()) continue;
    p.state = &it->second;
    p.fund_may_pay = CheckFundMayPay(fund, chunk.fund_id, it->second, id);
    if (p.fund_may_pay.ok()) p.fund_may_pay = PurposeAllowed(chunk.fund_id, chunk.bucket, id);
  }
  return out;
}

// What the prepare needs of the names a batch's chunks resolved: their ids alone.
std::vector<ChunkNameIds> NameIdsOf(std::vector<RollChunkNames>&& resolved) {
  std::vector<ChunkNameIds> out(resolved.size());
  for (size_t i = 0; i < resolved.size(); ++i) {
    out[i].people = std::move(resolved[i].people);
    out[i].programs.reserve(resolved[i].programs.size());
    for (const RollProgram& p : resolved[i].programs) out[i].programs.push_back(p.id);
  }
  return out;
}

// Whether any program excludes another: if none does, no roll line can break the rule.
bool AnyExclusion(const DomainState& s) {
  return std::any_of(s.programs.begin(), s.programs.end(),
                     [](const auto& p) { return !p.second.excludes.empty(); });
}

// One roll line: the person, the program and the fund's right to pay it, the person's
// eligibility in the period, the amount enrolled, and the one-payment rule. The person and
// program come as the chunk resolved them (ResolveChunk).
Status CheckLine(const DomainState& s, int32_t roll_period, bool any_exclusion,
                 const std::string& ben_id, NameId person, const std::string& program_id,
                 const RollProgram& program, int32_t period, int64_t amount) {
  if (MonthIndex(period) > MonthIndex(roll_period) + 1) {
    return RuleError(RuleCode::kPeriodAhead,
                     FormatMonth(period) + " is more than one month after the roll's period " +
                         FormatMonth(roll_period),
                     "period");
  }
  const BeneficiaryState* b =
      person != kNoNameId ? s.BeneficiaryOf(person) : s.FindBeneficiary(ben_id);
  if (b == nullptr) {
    return RuleError(RuleCode::kUnknownBeneficiary,
                     "beneficiary '" + ben_id + "' is not registered", "beneficiary_id");
  }
  if (program.state == nullptr)
    return RuleError(RuleCode::kUnknownProgram, "program '" + program_id + "' is not defined",
                     "program_id");
  const BeneficiaryState& ben = *b;
  const ProgramState& prog = *program.state;
  if (ben.erased)
    return RuleError(RuleCode::kBeneficiaryErased, "beneficiary '" + ben_id + "' was erased",
                     "beneficiary_id");
  if (!program.fund_may_pay.ok()) return program.fund_may_pay;
  FL_RETURN_IF_ERROR(CheckActive(ben, ben_id, period));
  // Enrolling interns both names: a person or program never interned is enrolled in nothing.
  const EnrollmentTerm* term = person != kNoNameId && program.id != kNoNameId
                                   ? TermCovering(s.EnrollmentsOf(person, program.id), period)
                                   : nullptr;
  if (term == nullptr) {
    return RuleError(RuleCode::kNotEnrolled,
                     "beneficiary '" + ben_id + "' is not enrolled in '" + program_id + "' for " +
                         FormatMonth(period),
                     "program_id");
  }
  FL_RETURN_IF_ERROR(CheckStandard(prog, program_id, period, amount));
  FL_RETURN_IF_ERROR(CheckEnrolledAmount(*term, ben_id, program_id, period, amount));
  FL_RETURN_IF_ERROR(CheckAge(ben, prog, *term, ben_id, period));
  if (any_exclusion) FL_RETURN_IF_ERROR(CheckExclusions(s, prog, ben_id, program_id, period));
  if (person != kNoNameId && program.id != kNoNameId)
    FL_RETURN_IF_ERROR(
        s.slots.CheckFree(s.names, SlotKey{person, program.id, period}, "beneficiary_id"));
  return CheckOneOffLimit(s, prog, ben_id, program_id, period);
}

const BatchLine* FindLine(const BatchState& b, uint32_t line_no) { return b.FindLine(line_no); }

// A registered person whose personal data was not erased.
Status FindLiveBeneficiary(const DomainState& s, const std::string& id,
                           const BeneficiaryState** beneficiary) {
  auto it = s.beneficiaries.find(id);
  if (it == s.beneficiaries.end()) {
    return RuleError(RuleCode::kUnknownBeneficiary, "beneficiary '" + id + "' is not registered",
                     "beneficiary_id");
  }
  if (it->second.erased) {
    return RuleError(RuleCode::kBeneficiaryErased, "beneficiary '" + id + "' was erased",
                     "beneficiary_id");
  }
  *beneficiary = &it->second;
  return Status::Ok();
}

// A batch that is prepared and neither approved nor rejected yet.
Status FindUndecidedBatch(const DomainState& s, const std::string& batch_id,
                          const BatchState** batch) {
  auto it = s.batches.find(batch_id);
  if (it == s.batches.end()) {
    return RuleError(RuleCode::kUnknownBatch, "batch '" + batch_id + "' does not exist",
                     "batch_id");
  }
  if (it->second.status != BatchStatus::kPrepared) {
    return RuleError(
        RuleCode::kBatchNotPrepared,
        "batch '" + batch_id + "' is already " + std::string(BatchStatusName(it->second.status)),
        "batch_id");
  }
  *batch = &it->second;
  return Status::Ok();
}

Status FindApprovedLine(const DomainState& s, const std::string& batch_id, uint32_t line_no,
                        const BatchState** batch, const BatchLine** line) {
  auto it = s.batches.find(batch_id);
  if (it == s.batches.end())
    return RuleError(RuleCode::kUnknownBatch, "batch '" + batch_id + "' does not exist",
                     "batch_id");
  if (it->second.status != BatchStatus::kApproved) {
    return RuleError(RuleCode::kBatchNotApproved,
                     "batch '" + batch_id + "' is " +
                         std::string(BatchStatusName(it->second.status)) + ", not approved",
                     "batch_id");
  }
  const BatchLine* l = FindLine(it->second, line_no);
  if (l == nullptr) {
    return RuleError(RuleCode::kUnknownLine,
                     "batch '" + batch_id + "' has no line " + std::to_string(line_no), "line_no");
  }
  *batch = &it->second;
  *line = l;
  return Status::Ok();
}

// A return, reissue or recovery of a line, by the line's state machine (line_corrections.h).
Status CheckLineMove(const DomainState& s, const std::string& batch_id, const BatchLine& l,
                     CorrectionKind kind, int64_t amount_fen) {
  std::optional<NameId> batch = s.names.Find(batch_id);  // none: no line of it was corrected
  LineHistory history = batch ? s.corrections.Of(LineRef{*batch, l.line_no}) : LineHistory{};
  LineMove move = NextLineState(l.state, l.amount_fen, history.recovered_fen, kind, amount_fen);
  if (!move.refusal) return Status::Ok();
  std::string line = "line " + std::to_string(l.line_no) + " of batch '" + batch_id + "' is " +
                     std::string(LineStateName(l.state));
  switch (*move.refusal) {
    case RuleCode::kOverRecovery:
      return RuleError(RuleCode::kOverRecovery,
                       "recovering " + FormatFen(amount_fen) + " yuan from a payment of " +
                           FormatFen(l.amount_fen) + " of which " +
                           FormatFen(history.recovered_fen) + " is recovered already",
                       "amount_fen");
    case RuleCode::kLineRecovered:
      return RuleError(RuleCode::kLineRecovered,
                       line + " with " + FormatFen(history.recovered_fen) +
                           " yuan recovered; reverse the recovery before returning it",
                       "line_no");
    case RuleCode::kLineNotReturned:
      return RuleError(RuleCode::kLineNotReturned, line + "; only a returned line is reissued",
                       "line_no");
    default:
      return RuleError(*move.refusal, line, "line_no");
  }
}

// Reversing correction entry `index` of a line: the line's latest, and back into a state that
// holds the slot only if no other line holds it meanwhile.
Status CheckCorrectionReversal(const DomainState& s, uint64_t index, const Correction& c) {
  const std::string& batch_id = s.names[c.line.batch];
  LineHistory history = s.corrections.Of(c.line);
  if (history.latest != index) {
    return RuleError(RuleCode::kCorrectionNotLatest,
                     "entry " + std::to_string(index) + " (a " +
                         std::string(CorrectionKindName(c.kind)) + " of line " +
                         std::to_string(c.line.line_no) + " of batch '" + batch_id +
                         "') is not the line's latest correction: reverse entry " +
                         std::to_string(history.latest) + " first",
                     "entry_index");
  }
  auto b = s.batches.find(batch_id);
  const BatchLine* l = b == s.batches.end() ? nullptr : FindLine(b->second, c.line.line_no);
  if (l == nullptr || HoldsPaymentSlot(l->state) || !HoldsPaymentSlot(c.from)) return Status::Ok();
  return s.slots.CheckFree(s.names, l->slot(), "entry_index");
}

// 特困 (category tekun) is at least 1.3 times 低保 (category dibao): checked for every pair of
// a tekun and a dibao program of the ledger (one bureau's area), in every month from which a
// term of either is in force. `changed` is the program being defined or changed, as it would be.
Status CheckTekunRatio(const DomainState& s, const std::string& changed_id,
                       const ProgramState& changed) {
  using fb::ProgramCategory;
  if (changed.category != ProgramCategory::tekun && changed.category != ProgramCategory::dibao)
    return Status::Ok();
  for (const auto& [other_id, stored] : s.programs) {
    if (other_id == changed_id) continue;
    const ProgramState& other = stored;
    bool pair =
        (changed.category == ProgramCategory::tekun && other.category == ProgramCategory::dibao) ||
        (changed.category == ProgramCategory::dibao && other.category == ProgramCategory::tekun);
    if (!pair) continue;
    const ProgramState& tekun = changed.category == ProgramCategory::tekun ? changed : other;
    const ProgramState& dibao = changed.category == ProgramCategory::tekun ? other : changed;
    std::vector<int32_t> months;
    for (const StandardTerm& t : tekun.terms) months.push_back(t.effective_month);
    for (const StandardTerm& t : dibao.terms) months.push_back(t.effective_month);
    for (int32_t month : months) {
      const StandardTerm* t = tekun.TermAt(month);
      const StandardTerm* d = dibao.TermAt(month);
      if (t == nullptr || d == nullptr) continue;
      if (t->standard_fen * 10 < d->standard_fen * 13) {  // amounts are below 10^13 fen
        const std::string& tekun_id = &tekun == &changed ? changed_id : other_id;
        const std::string& dibao_id = &dibao == &changed ? changed_id : other_id;
        return RuleError(RuleCode::kTekunRatio,
                         "in " + FormatMonth(month) + " the tekun standard of '" + tekun_id +
                             "' (" + FormatFen(t->standard_fen) +
                             ") would be below 1.3 times the dibao standard of '" + dibao_id +
                             "' (" + FormatFen(d->standard_fen) + ")",
                         "standard_fen");
      }
    }
  }
  return Status::Ok();
}

// consent:<ref> (the donor's written consent) or filing:<ref> (a filing with the authority that
// approved the money), the reference at least kConsentRefBytesMin characters with a digit in it.
Status CheckConsentRef(const std::string& consent_ref, bool lottery) {
  constexpr size_t kConsentRefBytesMin = 3;
  std::string_view ref = consent_ref;
  bool filing = ref.starts_with("filing:");
  bool consent = !lottery && ref.starts_with("consent:");
  if (filing || consent) ref.remove_prefix(filing ? 7 : 8);
  bool has_digit = std::any_of(ref.begin(), ref.end(), [](char c) { return c >= '0' && c <= '9'; });
  if ((filing || consent) && ref.size() >= kConsentRefBytesMin && has_digit) return Status::Ok();
  return RuleError(
      RuleCode::kConsentRefForm,
      "consent_ref '" + consent_ref + "' must be " +
          (lottery ? "filing:<reference>" : "consent:<reference> or filing:<reference>") +
          ", the reference of 3 or more characters with its number",
      "consent_ref");
}

struct RuleChecker {
  const DomainState& s;
  const EntryMeta& m;
  WorkerPool* pool;

  Status operator()(const fb::FundOpenedT& e) const {
    if (s.funds.count(e.fund_id))
      return RuleError(RuleCode::kDuplicateId, "fund '" + e.fund_id + "' already exists",
                       "fund_id");
    return Status::Ok();
  }
  Status operator()(const fb::FundClosedT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    for (const std::string& bucket : f->buckets) {
      const Balance& b = s.BalanceOf(FundAccount(e.fund_id, bucket));
      if (b.posted_fen != 0 || b.pending_fen != 0) {
        return RuleError(RuleCode::kFundNotEmpty,
                         "fund '" + e.fund_id + "' still holds " + FormatFen(b.posted_fen) +
                             " yuan in bucket '" + bucket + "'",
                         "fund_id");
      }
    }
    return Status::Ok();
  }
  Status operator()(const fb::ProgramDefinedT& e) const {
    if (s.programs.count(e.program_id))
      return RuleError(RuleCode::kDuplicateId, "program '" + e.program_id + "' already exists",
                       "program_id");
    ProgramState defined;
    defined.category = e.category;
    defined.terms.push_back(
        StandardTerm{e.effective_month, e.standard_fen, e.cap_fen, m.index, ""});
    return CheckTekunRatio(s, e.program_id, defined);
  }
  Status operator()(const fb::ProgramStandardChangedT& e) const {
    auto p = s.programs.find(e.program_id);
    if (p == s.programs.end())
      return RuleError(RuleCode::kUnknownProgram, "program '" + e.program_id + "' is not defined",
                       "program_id");
    ProgramState changed = p->second;
    changed.terms.push_back(
        StandardTerm{e.effective_month, e.standard_fen, e.cap_fen, m.index, e.document});
    return CheckTekunRatio(s, e.program_id, changed);
  }
  Status operator()(const fb::BeneficiaryRegisteredT& e) const {
    if (s.beneficiaries.count(e.beneficiary_id)) {
      return RuleError(RuleCode::kDuplicateId,
                       "beneficiary '" + e.beneficiary_id + "' already exists", "beneficiary_id");
    }
    auto c = s.commitments.find(HexEncode(e.id_commitment));
    if (c != s.commitments.end()) {
      return RuleError(RuleCode::kDuplicatePerson,
                       "this ID number is already registered as beneficiary '" + c->second + "'",
                       "id_number");
    }
    return Status::Ok();
  }
  Status operator()(const fb::BeneficiaryChangedT& e) const {
    const BeneficiaryState* b = nullptr;
    FL_RETURN_IF_ERROR(FindLiveBeneficiary(s, e.beneficiary_id, &b));
    int32_t death = b->DeathDate();
    if (death != 0 && e.status != fb::BeneficiaryStatus::deceased) {
      return RuleError(
          RuleCode::kDeceased,
          "beneficiary '" + e.beneficiary_id + "' is recorded as deceased on " + FormatDate(death),
          "status");
    }
    return Status::Ok();
  }
  template <typename T>
  Status Enrollment(const T& e, bool change) const {
    const BeneficiaryState* b = nullptr;
    FL_RETURN_IF_ERROR(FindLiveBeneficiary(s, e.beneficiary_id, &b));
    auto p = s.programs.find(e.program_id);
    if (p == s.programs.end())
      return RuleError(RuleCode::kUnknownProgram, "program '" + e.program_id + "' is not defined",
                       "program_id");
    if (e.age_extension_to_month != 0 && p->second.age_max_years == 0) {
      return RuleError(RuleCode::kAgeExtension,
                       "'" + e.program_id + "' has no upper age limit to extend",
                       "age_extension_to_month");
    }
    FL_RETURN_IF_ERROR(NoExcludedEnrolment(e, p->second));
    const StandardTerm* term = p->second.TermAt(e.from_month);
    if (term != nullptr && e.monthly_amount_fen > term->cap_fen) {
      return RuleError(RuleCode::kOverCap,
                       FormatFen(e.monthly_amount_fen) + " yuan a month is above the cap of " +
                           FormatFen(term->cap_fen) + " for '" + e.program_id + "'",
                       "monthly_amount_fen");
    }
    const EnrollmentTerms* en = s.EnrollmentsOf(e.beneficiary_id, e.program_id);
    if (change) {
      if (en == nullptr) {
        return RuleError(RuleCode::kNotEnrolled,
                         "beneficiary '" + e.beneficiary_id + "' has no enrollment in '" +
                             e.program_id + "' to change",
                         "program_id");
      }
    } else if (en != nullptr) {
      for (const EnrollmentTerm& t : *en) {
        bool overlap = (e.to_month == 0 || t.from_month <= e.to_month) &&
                       (t.to_month == 0 || e.from_month <= t.to_month);
        if (overlap) {
          return RuleError(RuleCode::kAlreadyEnrolled,
                           "beneficiary '" + e.beneficiary_id + "' is already enrolled in '" +
                               e.program_id + "' from " + FormatMonth(t.from_month) +
                               "; use EnrollmentChanged",
                           "from_month");
        }
      }
    }
    return Status::Ok();
  }
  // No enrolment of the person in a program this one excludes (or that excludes it) overlaps
  // the months enrolled.
  template <typename T>
  Status NoExcludedEnrolment(const T& e, const ProgramState& prog) const {
    auto others = s.programs_of.find(e.beneficiary_id);
    if (others == s.programs_of.end()) return Status::Ok();
    for (const std::string& other : others->second) {
      if (other == e.program_id || !Excludes(s, prog, e.program_id, other)) continue;
      const EnrollmentTerms* terms = s.EnrollmentsOf(e.beneficiary_id, other);
      assert(terms != nullptr);  // programs_of names only programs enrolled in
      for (const EnrollmentTerm& t : *terms) {
        bool overlap = (e.to_month == 0 || t.from_month <= e.to_month) &&
                       (t.to_month == 0 || e.from_month <= t.to_month);
        if (!overlap) continue;
        return RuleError(RuleCode::kExcludedCombination,
                         "'" + e.program_id + "' may not be combined with '" + other +
                             "', in which beneficiary '" + e.beneficiary_id +
                             "' is enrolled from " + FormatMonth(t.from_month),
                         "program_id");
      }
    }
    return Status::Ok();
  }
  Status operator()(const fb::EnrolledT& e) const { return Enrollment(e, false); }
  Status operator()(const fb::EnrollmentChangedT& e) const { return Enrollment(e, true); }
  Status operator()(const fb::AppropriatedT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    return NoOverflow(s, FundAccount(e.fund_id, e.bucket), ExternalAccount(e.source), e.amount_fen);
  }
  Status operator()(const fb::DonationReceivedT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    if (!e.donor_id.empty() && s.erased_subjects.count(e.donor_id)) {
      return RuleError(RuleCode::kBeneficiaryErased, "donor '" + e.donor_id + "' was erased",
                       "donor_id");
    }
    return NoOverflow(s, FundAccount(e.fund_id, e.bucket), ExternalAccount("donors"), e.amount_fen);
  }
  Status operator()(const fb::LotteryGrantAwardedT& e) const {
    const FundState* from = nullptr;
    const FundState* to = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.from_fund_id, "from_fund_id", &from));
    FL_RETURN_IF_ERROR(OpenFund(s, e.to_fund_id, "to_fund_id", &to));
    if (from->kind != fb::FundKind::lottery_welfare) {
      return RuleError(RuleCode::kNotLotteryFund,
                       "fund '" + e.from_fund_id + "' is not a lottery_welfare fund",
                       "from_fund_id");
    }
    FL_RETURN_IF_ERROR(LotteryCategory(*from, e.from_fund_id, e.category).WithField("category"));
    FL_RETURN_IF_ERROR(PurposeAllowed(e.from_fund_id, e.from_bucket, e.category));
    return Available(s, e.from_fund_id, e.from_bucket, e.amount_fen);
  }
  Status operator()(const fb::DisbursementBatchPreparedT& e) const {
    return CheckBatchRules(s, {&e}, pool);
  }
  Status operator()(const fb::DisbursementBatchApprovedT& e) const {
    return DecidedByAnother(e.batch_id, "approve");
  }
  Status operator()(const fb::DisbursementBatchRejectedT& e) const {
    return DecidedByAnother(e.batch_id, "reject");
  }
  // Maker/checker: a batch is approved or rejected by someone other than its preparer, the
  // names compared as one person's whatever their case (SameActor).
  Status DecidedByAnother(const std::string& batch_id, const char* decision) const {
    const BatchState* b = nullptr;
    FL_RETURN_IF_ERROR(FindUndecidedBatch(s, batch_id, &b));
    if (SameActor(b->maker, m.actor)) {
      return RuleError(RuleCode::kSameMakerChecker,
                       "batch '" + batch_id + "' was prepared by " + b->maker +
                           "; a different person must " + decision + " it",
                       "actor");
    }
    return Status::Ok();
  }
  Status operator()(const fb::PaymentReturnedT& e) const {
    const BatchState* b = nullptr;
    const BatchLine* l = nullptr;
    FL_RETURN_IF_ERROR(FindApprovedLine(s, e.batch_id, e.line_no, &b, &l));
    return CheckLineMove(s, e.batch_id, *l, CorrectionKind::kReturn, l->amount_fen);
  }
  Status operator()(const fb::PaymentReissuedT& e) const {
    const BatchState* b = nullptr;
    const BatchLine* l = nullptr;
    FL_RETURN_IF_ERROR(FindApprovedLine(s, e.batch_id, e.line_no, &b, &l));
    FL_RETURN_IF_ERROR(CheckLineMove(s, e.batch_id, *l, CorrectionKind::kReissue, l->amount_fen));
    FL_RETURN_IF_ERROR(s.slots.CheckFree(s.names, l->slot(), "line_no"));
    return Available(s, b->fund, b->bucket, l->amount_fen);
  }
  Status operator()(const fb::RecoveredT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    if (!s.beneficiaries.count(e.beneficiary_id)) {
      return RuleError(RuleCode::kUnknownBeneficiary,
                       "beneficiary '" + e.beneficiary_id + "' is not registered",
                       "beneficiary_id");
    }
    if (e.batch_id.empty()) {
      return RuleError(RuleCode::kRecoveryWithoutLine,
                       "a recovery names the payment it recovers: the batch and line that paid '" +
                           e.beneficiary_id + "'",
                       "batch_id");
    }
    const BatchState* b = nullptr;
    const BatchLine* l = nullptr;
    FL_RETURN_IF_ERROR(FindApprovedLine(s, e.batch_id, e.line_no, &b, &l));
    if (s.names[l->beneficiary] != e.beneficiary_id) {
      return RuleError(RuleCode::kWrongBeneficiary,
                       "line " + std::to_string(e.line_no) + " of batch '" + e.batch_id +
                           "' paid another beneficiary",
                       "beneficiary_id");
    }
    if (b->fund != e.fund_id || b->bucket != e.bucket) {
      return RuleError(RuleCode::kWrongFund,
                       "batch '" + e.batch_id + "' was paid from fund '" + b->fund + "' bucket '" +
                           b->bucket + "'; the money recovered goes back there",
                       e.fund_id != b->fund ? "fund_id" : "bucket");
    }
    return CheckLineMove(s, e.batch_id, *l, CorrectionKind::kRecovery, e.amount_fen);
  }
  Status operator()(const fb::ReversalT& e) const {
    if (e.entry_index >= m.index) {
      return RuleError(RuleCode::kUnknownEntry,
                       "entry " + std::to_string(e.entry_index) + " does not precede this one",
                       "entry_index");
    }
    if (s.reversed.count(e.entry_index)) {
      return RuleError(RuleCode::kAlreadyReversed,
                       "entry " + std::to_string(e.entry_index) + " was already reversed",
                       "entry_index");
    }
    if (!s.reversible.Contains(e.entry_index)) {
      return RuleError(
          RuleCode::kNotReversible,
          "entry " + std::to_string(e.entry_index) + " moved no money that can be reversed",
          "entry_index");
    }
    if (const Correction* c = s.corrections.Find(e.entry_index)) {
      FL_RETURN_IF_ERROR(CheckCorrectionReversal(s, e.entry_index, *c));
    }
    // Reversing must not take any fund below zero.
    for (const Posting& p : s.ReversiblePostings(e.entry_index)) {
      if (!IsFundAccount(p.account) || p.posted_delta_fen <= 0) continue;
      FL_ASSIGN_OR_RETURN(Amount available, AvailableOf(s, p.account, "entry_index"));
      if (available < Amount::Fen(p.posted_delta_fen)) {
        return RuleError(RuleCode::kInsufficientFunds,
                         std::string(p.account) + " has " + available.ToYuan() +
                             " yuan available; reversing needs " + FormatFen(p.posted_delta_fen),
                         "entry_index");
      }
    }
    return Status::Ok();
  }
  Status operator()(const fb::ExpensedT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    if (f->kind == fb::FundKind::subsidy && !f->programs.count(e.purpose)) {
      return RuleError(RuleCode::kRestrictedPurpose,
                       "subsidy fund '" + e.fund_id +
                           "' spends only on the programs it pays, not '" + e.purpose + "'",
                       "purpose");
    }
    FL_RETURN_IF_ERROR(PurposeAllowed(e.fund_id, e.bucket, e.purpose));
    FL_RETURN_IF_ERROR(LotteryCategory(*f, e.fund_id, e.purpose).WithField("purpose"));
    return Available(s, e.fund_id, e.bucket, e.amount_fen);
  }
  Status operator()(const fb::TransferredBetweenFundsT& e) const {
    const FundState* from = nullptr;
    const FundState* to = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.from_fund_id, "from_fund_id", &from));
    FL_RETURN_IF_ERROR(OpenFund(s, e.to_fund_id, "to_fund_id", &to));
    if (from->kind == fb::FundKind::lottery_welfare) {
      return RuleError(RuleCode::kLotteryRingFenced,
                       "lottery money leaves fund '" + e.from_fund_id +
                           "' only as a grant to an approved category",
                       "from_fund_id");
    }
    if (from->kind == fb::FundKind::subsidy && to->kind != fb::FundKind::subsidy) {
      return RuleError(RuleCode::kRestrictedPurpose,
                       "subsidy money moves only to another subsidy fund, not to '" + e.to_fund_id +
                           "' (" + fb::EnumNameFundKind(to->kind) + ")",
                       "to_fund_id");
    }
    if (e.from_bucket != kGeneralBucket && e.to_bucket != e.from_bucket) {
      return RuleError(
          RuleCode::kRestrictedPurpose,
          "restricted bucket '" + e.from_bucket +
              "' can only move to a bucket with the same purpose; release the restriction first",
          "to_bucket");
    }
    return Available(s, e.from_fund_id, e.from_bucket, e.amount_fen);
  }
  Status operator()(const fb::RestrictionReleasedT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    auto lottery = f->lottery_buckets.find(e.bucket);
    FL_RETURN_IF_ERROR(CheckConsentRef(e.consent_ref, lottery != f->lottery_buckets.end()));
    if (lottery != f->lottery_buckets.end()) {
      // Lottery money stays lottery money: only into another project of the same category.
      auto to = f->lottery_buckets.find(e.to_bucket);
      if (to == f->lottery_buckets.end() || to->second != lottery->second) {
        return RuleError(RuleCode::kLotteryRingFenced,
                         "bucket '" + e.bucket + "' holds lottery money for '" + lottery->second +
                             "'; it can be released only into another project granted for it",
                         "to_bucket");
      }
    }
    return Available(s, e.fund_id, e.bucket, e.amount_fen);
  }
  Status operator()(const fb::ErasedT& e) const {
    if (!s.beneficiaries.count(e.subject_id) && e.subject_id.rfind("donor:", 0) != 0) {
      return RuleError(RuleCode::kUnknownBeneficiary, "no person '" + e.subject_id + "' to erase",
                       "subject_id");
    }
    if (s.erased_subjects.count(e.subject_id)) {
      return RuleError(RuleCode::kAlreadyErased, "'" + e.subject_id + "' was already erased",
                       "subject_id");
    }
    return Status::Ok();
  }
  Status operator()(const fb::DisclosurePublishedT& e) const {
    if (!e.fund_id.empty()) {
      const FundState* f = FindFund(s, e.fund_id);
      if (f == nullptr)
        return RuleError(RuleCode::kUnknownFund, "fund '" + e.fund_id + "' does not exist",
                         "fund_id");
      if (f->organisation != e.organisation) {
        return RuleError(RuleCode::kWrongOrganisation,
                         "fund '" + e.fund_id + "' belongs to '" + f->organisation + "'",
                         "organisation");
      }
    }
    if (e.checkpoint_size > m.index) {
      return RuleError(
          RuleCode::kUnknownCheckpoint,
          "no checkpoint of size " + std::to_string(e.checkpoint_size) + " precedes this entry",
          "checkpoint_size");
    }
    if (e.corrects_index != 0) {
      bool found = std::any_of(s.disclosures.begin(), s.disclosures.end(),
                               [&](const Disclosure& d) { return d.index == e.corrects_index; });
      if (!found)
        return RuleError(RuleCode::kUnknownEntry,
                         "entry " + std::to_string(e.corrects_index) + " is not a disclosure",
                         "corrects_index");
    }
    return Status::Ok();
  }
  Status operator()(const std::monostate&) const { return InvalidArgument("no event"); }
};
}  // namespace

Status CheckRules(const DomainState& state, const DomainEvent& event, const EntryMeta& meta,
                  WorkerPool* pool) {
  return std::visit(RuleChecker{state, meta, pool}, event);
}

namespace {

// The chunks of one roll belong together: all of them, in order, naming the same batch, fund,
// bucket and period. Sets *lines to how many lines they hold.
Status CheckChunks(const DomainState& s,
                   const std::vector<const fb::DisbursementBatchPreparedT*>& chunks,
                   size_t* lines) {
  const fb::DisbursementBatchPreparedT& head = *chunks.front();
  if (s.batches.count(head.batch_id))
    return RuleError(RuleCode::kDuplicateId, "batch '" + head.batch_id + "' already exists",
                     "batch_id");
  if (chunks.size() != head.chunks) {
    return RuleError(RuleCode::kIncompleteBatch,
                     "batch '" + head.batch_id + "' declares " + std::to_string(head.chunks) +
                         " chunks but the submission holds " + std::to_string(chunks.size()),
                     "chunks");
  }
  *lines = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const fb::DisbursementBatchPreparedT& c = *chunks[i];
    if (c.batch_id != head.batch_id || c.fund_id != head.fund_id || c.bucket != head.bucket ||
        c.period != head.period || c.chunk != i || c.chunks != head.chunks) {
      return RuleError(RuleCode::kIncompleteBatch,
                       "chunk " + std::to_string(i) + " of batch '" + head.batch_id +
                           "' does not match the first chunk",
                       "chunk");
    }
    *lines += c.lines.size();
  }
  if (*lines > kBatchLinesMax) {
    return Status(StatusCode::kTooLarge,
                  "a batch holds at most 1,000,000 lines, got " + std::to_string(*lines));
  }
  return Status::Ok();
}

// One line of a roll being checked, and what its checks found.
struct RollLineCheck {
  const fb::DisbursementBatchPreparedT* chunk;
  size_t chunk_no;
  const fb::DisbursementLine* line;
  Status status;
  const std::string& beneficiary() const { return chunk->beneficiary_ids[line->beneficiary()]; }
  const std::string& program() const { return chunk->program_ids[line->program()]; }
};

// Whether a line number repeats one before it. The rules accept rolls whose numbers rise, and
// a number above every one before is new: only once a number does not rise are the numbers
// kept in a set (those seen so far first).
class LineNumbersSeen {
 public:
  // `before`: the numbers of the lines before this one, read only when the set is first needed.
  template <typename Before>
  bool Add(uint32_t line_no, const Before& before) {
    if (!any_ || (set_.empty() && line_no > max_)) {
      any_ = true;
      max_ = line_no;
      return true;
    }
    if (set_.empty()) before([&](uint32_t n) { set_.insert(n); });
    return set_.insert(line_no).second;
  }

 private:
  bool any_ = false;
  uint32_t max_ = 0;
  boost::unordered_flat_set<uint32_t> set_;
};

// fn over [0, n): in parts on the pool's threads and this one when `large`, else here alone.
void InParts(WorkerPool* pool, bool large, size_t n,
             const std::function<void(size_t, size_t)>& fn) {
  if (pool != nullptr && large) {
    pool->ForEachPart(n, kCheckPartsMax, fn);
  } else {
    fn(0, n);
  }
}

// The roll's lines in order, each with what only the roll itself can break: a repeated line
// number, one person paid twice for a program and period (by the ids `resolved` found).
std::vector<RollLineCheck> CheckWithinRoll(
    const std::vector<const fb::DisbursementBatchPreparedT*>& chunks,
    const std::vector<RollChunkNames>& resolved, size_t lines) {
  std::vector<RollLineCheck> all;
  all.reserve(lines);
  NameId first_person = kNoNameId, last_person = 0;  // the people the roll names by id
  for (const RollChunkNames& names : resolved) {
    for (NameId p : names.people) {
      if (p == kNoNameId) continue;
      first_person = std::min(first_person, p);
      last_person = std::max(last_person, p);
    }
  }
  RollSlots slots(first_person == kNoNameId ? 0 : first_person,
                  first_person == kNoNameId ? 0 : last_person + 1);
  LineNumbersSeen line_numbers;
  auto numbers_before = [&](auto&& add) {
    for (const RollLineCheck& x : all) add(x.line->line_no());
  };
  for (size_t chunk_no = 0; chunk_no < chunks.size(); ++chunk_no) {
    const fb::DisbursementBatchPreparedT* c = chunks[chunk_no];
    const RollChunkNames& names = resolved[chunk_no];
    for (const fb::DisbursementLine& l : c->lines) {
      RollLineCheck x{c, chunk_no, &l, Status::Ok()};
      if (!line_numbers.Add(l.line_no(), numbers_before)) {
        x.status =
            RuleError(RuleCode::kDuplicateLineNo,
                      "line number " + std::to_string(l.line_no()) + " appears twice", "line_no");
      } else {
        x.status = slots.Take({x.beneficiary(), x.program(), l.period(),
                               names.people[l.beneficiary()], names.programs[l.program()].id});
      }
      all.push_back(std::move(x));
    }
  }
  return all;
}

// A roll pays a person a one-off program once (CheckOneOffLimit counts payments made before).
void CheckOneOffOncePerRoll(const DomainState& s, std::vector<RollLineCheck>& all) {
  std::set<std::string_view> one_off;
  for (const auto& [id, p] : s.programs) {
    if (p.period == fb::PaymentPeriod::one_off) one_off.insert(id);
  }
  if (one_off.empty()) return;
  std::set<std::pair<std::string_view, std::string_view>> paid;
  for (RollLineCheck& x : all) {
    if (!x.status.ok() || !one_off.count(x.program())) continue;
    if (!paid.emplace(x.beneficiary(), x.program()).second) {
      x.status = RuleError(
          RuleCode::kOneOffLimit,
          "beneficiary '" + x.beneficiary() + "' is paid '" + x.program() + "' twice in this roll",
          "beneficiary_id");
    }
  }
}

}  // namespace

Status CheckBatchRules(const DomainState& s,
                       const std::vector<const fb::DisbursementBatchPreparedT*>& chunks,
                       WorkerPool* pool, std::vector<ChunkNameIds>* chunk_names) {
  assert(!chunks.empty());
  const fb::DisbursementBatchPreparedT& head = *chunks.front();
  size_t lines = 0;
  FL_RETURN_IF_ERROR(CheckChunks(s, chunks, &lines));
  const FundState* fund = nullptr;
  FL_RETURN_IF_ERROR(OpenFund(s, head.fund_id, "fund_id", &fund));
  // Each chunk's names as ids, a large roll's chunks on the pool's threads and this one (a
  // hash probe a person, which missed the cache at 1M people on the writer alone).
  std::vector<RollChunkNames> resolved(chunks.size());  // by chunk
  auto resolve = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) resolved[i] = ResolveChunk(s, *fund, *chunks[i]);
  };
  InParts(pool, lines >= kParallelCheckLinesMin && chunks.size() > 1, chunks.size(), resolve);
  std::vector<RollLineCheck> all = CheckWithinRoll(chunks, resolved, lines);
  const bool any_exclusion = AnyExclusion(s);
  // Then each line against the ledger's state, which nothing changes meanwhile (the writer holds
  // the domain's lock): a large roll is checked in parts on the pool's threads and this one.
  auto check = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      RollLineCheck& x = all[i];
      if (!x.status.ok()) continue;
      const RollChunkNames& names = resolved[x.chunk_no];
      x.status = CheckLine(
          s, head.period, any_exclusion, x.beneficiary(), names.people[x.line->beneficiary()],
          x.program(), names.programs[x.line->program()], x.line->period(), x.line->amount_fen());
    }
  };
  InParts(pool, all.size() >= kParallelCheckLinesMin, all.size(), check);
  CheckOneOffOncePerRoll(s, all);
  std::vector<Status> rejected;
  Amount total;
  for (RollLineCheck& x : all) {
    if (!x.status.ok()) {
      x.status.WithLine(x.line->line_no());
      rejected.push_back(std::move(x.status));
    } else if (!total.TryAdd(Amount::Fen(x.line->amount_fen()))) {
      return RuleError(RuleCode::kAmountOverflow, "the batch total overflows", "amount_fen");
    }
  }
  if (!rejected.empty()) {
    Status first = rejected.front();
    return RuleError(RuleCode::kLinesRejected,
                     "batch '" + head.batch_id + "': " + std::to_string(rejected.size()) + " of " +
                         std::to_string(lines) +
                         " lines break ledger rules; nothing was posted. First: line " +
                         std::to_string(first.line()) + ": " + first.message())
        .WithLine(first.line())
        .WithDetails(std::move(rejected));
  }
  FL_RETURN_IF_ERROR(Available(s, head.fund_id, head.bucket, total, "lines"));
  if (chunk_names != nullptr) *chunk_names = NameIdsOf(std::move(resolved));
  return Status::Ok();
}

}  // namespace fundledger
