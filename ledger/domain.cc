#include "ledger/domain.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <charconv>
#include <mutex>
#include <optional>
#include <thread>

#include "ledger/ahead_queue.h"
#include "ledger/binary_codec.h"

namespace fundledger {
namespace {

// ---------------------------------------------------------------- rules (read-only)

Status Rule(const char* code, std::string message, const char* field = nullptr) {
  Status s = RuleViolation(code, std::move(message));
  if (field != nullptr) s.WithField(field);
  return s;
}

const FundState* FindFund(const DomainState& s, const std::string& id) {
  auto it = s.funds.find(id);
  return it == s.funds.end() ? nullptr : &it->second;
}

Status OpenFund(const DomainState& s, const std::string& id, const char* field,
                const FundState** out) {
  const FundState* f = FindFund(s, id);
  if (f == nullptr) return Rule("unknown_fund", "fund '" + id + "' does not exist", field);
  if (f->closed) return Rule("fund_closed", "fund '" + id + "' is closed", field);
  *out = f;
  return Status::Ok();
}

Status Available(const DomainState& s, const std::string& fund, const std::string& bucket,
                 int64_t amount, const char* field = "amount_fen") {
  const Balance& b = s.BalanceOf(FundAccount(fund, bucket));
  if (b.available_fen() < amount) {
    return Rule("insufficient_funds",
                "fund '" + fund + "' bucket '" + bucket + "' has " + FormatFen(b.available_fen()) +
                    " yuan available (after " + FormatFen(b.pending_fen) + " reserved), needs " +
                    FormatFen(amount),
                field);
  }
  return Status::Ok();
}

// Money coming in must not overflow the receiving balance (or the external source's).
Status NoOverflow(const DomainState& s, const std::string& to, const std::string& from,
                  int64_t amount) {
  int64_t out = 0;
  if (__builtin_add_overflow(s.BalanceOf(to).posted_fen, amount, &out) ||
      __builtin_sub_overflow(s.BalanceOf(from).posted_fen, amount, &out)) {
    return Rule("amount_overflow",
                "posting " + FormatFen(amount) + " yuan to " + to + " would overflow",
                "amount_fen");
  }
  return Status::Ok();
}

// Restricted money is spent only on its purpose: a bucket other than "general" names it.
Status PurposeAllowed(const std::string& fund, const std::string& bucket,
                      const std::string& purpose) {
  if (bucket == kGeneralBucket || bucket == purpose) return Status::Ok();
  return Rule("restricted_purpose",
              "bucket '" + bucket + "' of fund '" + fund + "' is restricted to '" + bucket +
                  "' and cannot pay for '" + purpose + "'",
              "bucket");
}

Status LotteryCategory(const FundState& f, const std::string& fund, const std::string& category) {
  if (f.kind != fb::FundKind::lottery_welfare || f.purposes.count(category)) return Status::Ok();
  return Rule("lottery_category", "lottery fund '" + fund +
                                      "' may only spend on its approved categories, not '" +
                                      category + "'");
}

int64_t AgeMonths(int32_t birth_month, int32_t month) {
  return MonthIndex(month) - MonthIndex(birth_month);
}

Status CheckLine(const DomainState& s, const FundState& fund, const std::string& fund_id,
                 const std::string& bucket, const std::string& ben_id,
                 const std::string& program_id, int32_t period, int64_t amount) {
  auto b = s.beneficiaries.find(ben_id);
  if (b == s.beneficiaries.end()) {
    return Rule("unknown_beneficiary", "beneficiary '" + ben_id + "' is not registered",
                "beneficiary_id");
  }
  auto p = s.programs.find(program_id);
  if (p == s.programs.end())
    return Rule("unknown_program", "program '" + program_id + "' is not defined", "program_id");
  const BeneficiaryState& ben = b->second;
  const ProgramState& prog = p->second;
  if (ben.erased)
    return Rule("beneficiary_erased", "beneficiary '" + ben_id + "' was erased", "beneficiary_id");
  if (!fund.programs.count(program_id)) {
    return Rule("program_not_allowed",
                "fund '" + fund_id + "' may not pay program '" + program_id + "'", "program_id");
  }
  FL_RETURN_IF_ERROR(PurposeAllowed(fund_id, bucket, program_id));
  int32_t first_day = FirstDayOf(period);
  int32_t death = ben.DeathDate();
  if (death != 0 && death < first_day) {
    return Rule("deceased",
                "beneficiary '" + ben_id + "' died on " + FormatDate(death) + ", before " +
                    FormatMonth(period),
                "beneficiary_id");
  }
  fb::BeneficiaryStatus status = ben.StatusOn(first_day);
  if (status != fb::BeneficiaryStatus::active) {
    return Rule("not_active",
                "beneficiary '" + ben_id + "' is " + fb::EnumNameBeneficiaryStatus(status) +
                    " on " + FormatDate(first_day),
                "beneficiary_id");
  }
  auto e = s.enrollments.find(EnrollmentKey(ben_id, program_id));
  bool enrolled = e != s.enrollments.end() &&
                  std::any_of(e->second.begin(), e->second.end(),
                              [&](const EnrollmentTerm& t) { return t.Covers(period); });
  if (!enrolled) {
    return Rule("not_enrolled",
                "beneficiary '" + ben_id + "' is not enrolled in '" + program_id + "' for " +
                    FormatMonth(period),
                "program_id");
  }
  const StandardTerm* term = prog.TermAt(period);
  if (term == nullptr) {
    return Rule("program_not_effective",
                "program '" + program_id + "' has no standard in force in " + FormatMonth(period),
                "period");
  }
  if (amount > term->cap_fen) {
    return Rule("over_cap",
                FormatFen(amount) + " yuan is above the cap of " + FormatFen(term->cap_fen) +
                    " for '" + program_id + "' in " + FormatMonth(period),
                "amount_fen");
  }
  int64_t age = AgeMonths(ben.birth_month, period);
  if (prog.age_min_years > 0 && age < int64_t{prog.age_min_years} * 12) {
    return Rule("age_limit",
                "beneficiary '" + ben_id + "' is under " + std::to_string(prog.age_min_years) +
                    " in " + FormatMonth(period),
                "beneficiary_id");
  }
  // Paid through the month of the birthday; stops the month after.
  if (prog.age_max_years > 0 && age > int64_t{prog.age_max_years} * 12) {
    return Rule("age_limit",
                "beneficiary '" + ben_id + "' turned " + std::to_string(prog.age_max_years) +
                    " before " + FormatMonth(period),
                "beneficiary_id");
  }
  auto others = s.programs_of.find(ben_id);
  if (others != s.programs_of.end()) {
    for (const std::string& other : others->second) {
      if (other == program_id) continue;
      auto oe = s.enrollments.find(EnrollmentKey(ben_id, other));
      bool active = oe != s.enrollments.end() &&
                    std::any_of(oe->second.begin(), oe->second.end(),
                                [&](const EnrollmentTerm& t) { return t.Covers(period); });
      if (!active) continue;
      auto op = s.programs.find(other);
      bool excluded = prog.excludes.count(other) ||
                      (op != s.programs.end() && op->second.excludes.count(program_id));
      if (excluded) {
        return Rule("excluded_combination",
                    "'" + program_id + "' may not be combined with '" + other +
                        "', which beneficiary '" + ben_id + "' receives in " + FormatMonth(period),
                    "program_id");
      }
    }
  }
  std::optional<SlotKey> key = s.FindSlot(ben_id, program_id, period);
  auto slot = key ? s.paid.find(*key) : s.paid.end();
  if (slot != s.paid.end()) {
    return Rule("duplicate_payment",
                "beneficiary '" + ben_id + "' is already paid '" + program_id + "' for " +
                    FormatMonth(period) + " (batch '" + s.names[slot->second.batch] + "' line " +
                    std::to_string(slot->second.line_no) + ")",
                "beneficiary_id");
  }
  return Status::Ok();
}

const BatchLine* FindLine(const BatchState& b, uint32_t line_no) {
  auto it = b.line_pos.find(line_no);
  return it == b.line_pos.end() ? nullptr : &b.lines[it->second];
}

Status FindApprovedLine(const DomainState& s, const std::string& batch_id, uint32_t line_no,
                        const BatchState** batch, const BatchLine** line) {
  auto it = s.batches.find(batch_id);
  if (it == s.batches.end())
    return Rule("unknown_batch", "batch '" + batch_id + "' does not exist", "batch_id");
  if (it->second.status != BatchStatus::kApproved) {
    return Rule("batch_not_approved",
                "batch '" + batch_id + "' is " + std::string(BatchStatusName(it->second.status)) +
                    ", not approved",
                "batch_id");
  }
  const BatchLine* l = FindLine(it->second, line_no);
  if (l == nullptr) {
    return Rule("unknown_line", "batch '" + batch_id + "' has no line " + std::to_string(line_no),
                "line_no");
  }
  *batch = &it->second;
  *line = l;
  return Status::Ok();
}

struct RuleChecker {
  const DomainState& s;
  const EntryMeta& m;

  Status operator()(const fb::FundOpenedT& e) const {
    if (s.funds.count(e.fund_id))
      return Rule("duplicate_id", "fund '" + e.fund_id + "' already exists", "fund_id");
    return Status::Ok();
  }
  Status operator()(const fb::FundClosedT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    for (const std::string& bucket : f->buckets) {
      const Balance& b = s.BalanceOf(FundAccount(e.fund_id, bucket));
      if (b.posted_fen != 0 || b.pending_fen != 0) {
        return Rule("fund_not_empty",
                    "fund '" + e.fund_id + "' still holds " + FormatFen(b.posted_fen) +
                        " yuan in bucket '" + bucket + "'",
                    "fund_id");
      }
    }
    return Status::Ok();
  }
  Status operator()(const fb::ProgramDefinedT& e) const {
    if (s.programs.count(e.program_id))
      return Rule("duplicate_id", "program '" + e.program_id + "' already exists", "program_id");
    return Status::Ok();
  }
  Status operator()(const fb::ProgramStandardChangedT& e) const {
    if (!s.programs.count(e.program_id))
      return Rule("unknown_program", "program '" + e.program_id + "' is not defined", "program_id");
    return Status::Ok();
  }
  Status operator()(const fb::BeneficiaryRegisteredT& e) const {
    if (s.beneficiaries.count(e.beneficiary_id)) {
      return Rule("duplicate_id", "beneficiary '" + e.beneficiary_id + "' already exists",
                  "beneficiary_id");
    }
    auto c = s.commitments.find(HexEncode(e.id_commitment));
    if (c != s.commitments.end()) {
      return Rule("duplicate_person",
                  "this ID number is already registered as beneficiary '" + c->second + "'",
                  "id_number");
    }
    return Status::Ok();
  }
  Status operator()(const fb::BeneficiaryChangedT& e) const {
    auto b = s.beneficiaries.find(e.beneficiary_id);
    if (b == s.beneficiaries.end())
      return Rule("unknown_beneficiary", "beneficiary '" + e.beneficiary_id + "' is not registered",
                  "beneficiary_id");
    if (b->second.erased)
      return Rule("beneficiary_erased", "beneficiary '" + e.beneficiary_id + "' was erased",
                  "beneficiary_id");
    int32_t death = b->second.DeathDate();
    if (death != 0 && e.status != fb::BeneficiaryStatus::deceased) {
      return Rule(
          "deceased",
          "beneficiary '" + e.beneficiary_id + "' is recorded as deceased on " + FormatDate(death),
          "status");
    }
    return Status::Ok();
  }
  template <typename T>
  Status Enrollment(const T& e, bool change) const {
    auto b = s.beneficiaries.find(e.beneficiary_id);
    if (b == s.beneficiaries.end())
      return Rule("unknown_beneficiary", "beneficiary '" + e.beneficiary_id + "' is not registered",
                  "beneficiary_id");
    if (b->second.erased)
      return Rule("beneficiary_erased", "beneficiary '" + e.beneficiary_id + "' was erased",
                  "beneficiary_id");
    auto p = s.programs.find(e.program_id);
    if (p == s.programs.end())
      return Rule("unknown_program", "program '" + e.program_id + "' is not defined", "program_id");
    const StandardTerm* term = p->second.TermAt(e.from_month);
    if (term != nullptr && e.monthly_amount_fen > term->cap_fen) {
      return Rule("over_cap",
                  FormatFen(e.monthly_amount_fen) + " yuan a month is above the cap of " +
                      FormatFen(term->cap_fen) + " for '" + e.program_id + "'",
                  "monthly_amount_fen");
    }
    auto en = s.enrollments.find(EnrollmentKey(e.beneficiary_id, e.program_id));
    if (change) {
      if (en == s.enrollments.end()) {
        return Rule("not_enrolled",
                    "beneficiary '" + e.beneficiary_id + "' has no enrollment in '" + e.program_id +
                        "' to change",
                    "program_id");
      }
    } else if (en != s.enrollments.end()) {
      for (const EnrollmentTerm& t : en->second) {
        bool overlap = (e.to_month == 0 || t.from_month <= e.to_month) &&
                       (t.to_month == 0 || e.from_month <= t.to_month);
        if (overlap) {
          return Rule("already_enrolled",
                      "beneficiary '" + e.beneficiary_id + "' is already enrolled in '" +
                          e.program_id + "' from " + FormatMonth(t.from_month) +
                          "; use EnrollmentChanged",
                      "from_month");
        }
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
      return Rule("beneficiary_erased", "donor '" + e.donor_id + "' was erased", "donor_id");
    }
    return NoOverflow(s, FundAccount(e.fund_id, e.bucket), ExternalAccount("donors"), e.amount_fen);
  }
  Status operator()(const fb::LotteryGrantAwardedT& e) const {
    const FundState* from = nullptr;
    const FundState* to = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.from_fund_id, "from_fund_id", &from));
    FL_RETURN_IF_ERROR(OpenFund(s, e.to_fund_id, "to_fund_id", &to));
    if (from->kind != fb::FundKind::lottery_welfare) {
      return Rule("not_lottery_fund", "fund '" + e.from_fund_id + "' is not a lottery_welfare fund",
                  "from_fund_id");
    }
    FL_RETURN_IF_ERROR(LotteryCategory(*from, e.from_fund_id, e.category).WithField("category"));
    FL_RETURN_IF_ERROR(PurposeAllowed(e.from_fund_id, e.from_bucket, e.category));
    return Available(s, e.from_fund_id, e.from_bucket, e.amount_fen);
  }
  Status operator()(const fb::DisbursementBatchPreparedT& e) const {
    return CheckBatchRules(s, {&e});
  }
  Status operator()(const fb::DisbursementBatchApprovedT& e) const {
    auto b = s.batches.find(e.batch_id);
    if (b == s.batches.end())
      return Rule("unknown_batch", "batch '" + e.batch_id + "' does not exist", "batch_id");
    if (b->second.status != BatchStatus::kPrepared) {
      return Rule(
          "batch_not_prepared",
          "batch '" + e.batch_id + "' is already " + std::string(BatchStatusName(b->second.status)),
          "batch_id");
    }
    if (b->second.maker == m.actor) {
      return Rule("same_maker_checker",
                  "batch '" + e.batch_id + "' was prepared by " + b->second.maker +
                      "; a different person must approve it",
                  "actor");
    }
    return Status::Ok();
  }
  Status operator()(const fb::DisbursementBatchRejectedT& e) const {
    auto b = s.batches.find(e.batch_id);
    if (b == s.batches.end())
      return Rule("unknown_batch", "batch '" + e.batch_id + "' does not exist", "batch_id");
    if (b->second.status != BatchStatus::kPrepared) {
      return Rule(
          "batch_not_prepared",
          "batch '" + e.batch_id + "' is already " + std::string(BatchStatusName(b->second.status)),
          "batch_id");
    }
    return Status::Ok();
  }
  Status operator()(const fb::PaymentReturnedT& e) const {
    const BatchState* b = nullptr;
    const BatchLine* l = nullptr;
    FL_RETURN_IF_ERROR(FindApprovedLine(s, e.batch_id, e.line_no, &b, &l));
    if (l->state != LineState::kPaid && l->state != LineState::kReissued) {
      return Rule("line_not_paid",
                  "line " + std::to_string(e.line_no) + " of batch '" + e.batch_id + "' is " +
                      std::string(LineStateName(l->state)),
                  "line_no");
    }
    return Status::Ok();
  }
  Status operator()(const fb::PaymentReissuedT& e) const {
    const BatchState* b = nullptr;
    const BatchLine* l = nullptr;
    FL_RETURN_IF_ERROR(FindApprovedLine(s, e.batch_id, e.line_no, &b, &l));
    if (l->state != LineState::kReturned) {
      return Rule("line_not_returned",
                  "line " + std::to_string(e.line_no) + " of batch '" + e.batch_id + "' is " +
                      std::string(LineStateName(l->state)) + "; only a returned line is reissued",
                  "line_no");
    }
    auto slot = s.paid.find(SlotKey{l->beneficiary, l->program, l->period});
    if (slot != s.paid.end()) {
      return Rule("duplicate_payment",
                  "beneficiary '" + s.names[l->beneficiary] + "' was paid '" + s.names[l->program] +
                      "' for " + FormatMonth(l->period) + " again in batch '" +
                      s.names[slot->second.batch] + "'",
                  "line_no");
    }
    return Available(s, b->fund, b->bucket, l->amount_fen);
  }
  Status operator()(const fb::RecoveredT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    if (!s.beneficiaries.count(e.beneficiary_id)) {
      return Rule("unknown_beneficiary", "beneficiary '" + e.beneficiary_id + "' is not registered",
                  "beneficiary_id");
    }
    if (!e.batch_id.empty()) {
      const BatchState* b = nullptr;
      const BatchLine* l = nullptr;
      FL_RETURN_IF_ERROR(FindApprovedLine(s, e.batch_id, e.line_no, &b, &l));
      if (s.names[l->beneficiary] != e.beneficiary_id) {
        return Rule("wrong_beneficiary",
                    "line " + std::to_string(e.line_no) + " of batch '" + e.batch_id +
                        "' paid another beneficiary",
                    "beneficiary_id");
      }
      if (l->state != LineState::kPaid && l->state != LineState::kReissued) {
        return Rule("line_not_paid",
                    "line " + std::to_string(e.line_no) + " of batch '" + e.batch_id + "' is " +
                        std::string(LineStateName(l->state)),
                    "line_no");
      }
      if (e.amount_fen > l->amount_fen) {
        return Rule("over_recovery",
                    "recovering " + FormatFen(e.amount_fen) + " yuan from a payment of " +
                        FormatFen(l->amount_fen),
                    "amount_fen");
      }
    }
    return Status::Ok();
  }
  Status operator()(const fb::ReversalT& e) const {
    if (e.entry_index >= m.index) {
      return Rule("unknown_entry",
                  "entry " + std::to_string(e.entry_index) + " does not precede this one",
                  "entry_index");
    }
    if (s.reversed.count(e.entry_index)) {
      return Rule("already_reversed",
                  "entry " + std::to_string(e.entry_index) + " was already reversed",
                  "entry_index");
    }
    if (!s.reversible.Contains(e.entry_index)) {
      return Rule("not_reversible",
                  "entry " + std::to_string(e.entry_index) + " moved no money that can be reversed",
                  "entry_index");
    }
    // Reversing must not take any fund below zero.
    for (const Posting& p : s.reversible.Find(e.entry_index)) {
      if (!IsFundAccount(p.account) || p.posted_delta_fen <= 0) continue;
      const Balance& b = s.BalanceOf(p.account);
      if (b.available_fen() < p.posted_delta_fen) {
        return Rule("insufficient_funds",
                    p.account + " has " + FormatFen(b.available_fen()) +
                        " yuan available; reversing needs " + FormatFen(p.posted_delta_fen),
                    "entry_index");
      }
    }
    return Status::Ok();
  }
  Status operator()(const fb::ExpensedT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
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
      return Rule("lottery_ring_fenced",
                  "lottery money leaves fund '" + e.from_fund_id +
                      "' only as a grant to an approved category",
                  "from_fund_id");
    }
    if (e.from_bucket != kGeneralBucket && e.to_bucket != e.from_bucket) {
      return Rule(
          "restricted_purpose",
          "restricted bucket '" + e.from_bucket +
              "' can only move to a bucket with the same purpose; release the restriction first",
          "to_bucket");
    }
    return Available(s, e.from_fund_id, e.from_bucket, e.amount_fen);
  }
  Status operator()(const fb::RestrictionReleasedT& e) const {
    const FundState* f = nullptr;
    FL_RETURN_IF_ERROR(OpenFund(s, e.fund_id, "fund_id", &f));
    return Available(s, e.fund_id, e.bucket, e.amount_fen);
  }
  Status operator()(const fb::ErasedT& e) const {
    if (!s.beneficiaries.count(e.subject_id) && e.subject_id.rfind("donor:", 0) != 0) {
      return Rule("unknown_beneficiary", "no person '" + e.subject_id + "' to erase", "subject_id");
    }
    if (s.erased_subjects.count(e.subject_id)) {
      return Rule("already_erased", "'" + e.subject_id + "' was already erased", "subject_id");
    }
    return Status::Ok();
  }
  Status operator()(const fb::DisclosurePublishedT& e) const {
    if (!e.fund_id.empty()) {
      const FundState* f = FindFund(s, e.fund_id);
      if (f == nullptr)
        return Rule("unknown_fund", "fund '" + e.fund_id + "' does not exist", "fund_id");
      if (f->organisation != e.organisation) {
        return Rule("wrong_organisation",
                    "fund '" + e.fund_id + "' belongs to '" + f->organisation + "'",
                    "organisation");
      }
    }
    if (e.checkpoint_size > m.index) {
      return Rule(
          "unknown_checkpoint",
          "no checkpoint of size " + std::to_string(e.checkpoint_size) + " precedes this entry",
          "checkpoint_size");
    }
    if (e.corrects_index != 0) {
      bool found = std::any_of(s.disclosures.begin(), s.disclosures.end(),
                               [&](const Disclosure& d) { return d.index == e.corrects_index; });
      if (!found)
        return Rule("unknown_entry",
                    "entry " + std::to_string(e.corrects_index) + " is not a disclosure",
                    "corrects_index");
    }
    return Status::Ok();
  }
  Status operator()(const std::monostate&) const { return InvalidArgument("no event"); }
};

// ---------------------------------------------------------------- application (mutating)

class Applier {
 public:
  Applier(DomainState& s, UndoLog* undo, const EntryMeta& m, AppliedEntry& applied)
      : s_(s), undo_(undo), m_(m), applied_(applied) {}

  template <typename Map, typename Key>
  void Save(Map& map, const Key& key) {
    if (undo_ == nullptr) return;
    auto it = map.find(key);
    if (it == map.end()) {
      undo_->Push([&map, key] { map.erase(key); });
    } else {
      undo_->Push([&map, key, old = it->second] { map[key] = old; });
    }
  }
  // Undo for one batch that copies no lines: its header and line count come back, lines
  // added since are dropped. Changes to the states of existing lines need their own steps.
  void SaveBatchHeader(const std::string& id) {
    if (undo_ == nullptr) return;
    auto it = s_.batches.find(id);
    if (it == s_.batches.end()) {
      undo_->Push([&batches = s_.batches, id] { batches.erase(id); });
      return;
    }
    BatchState& b = it->second;  // std::map: the reference outlives later inserts
    BatchState header;
    header.maker = b.maker;
    header.fund = b.fund;
    header.bucket = b.bucket;
    header.period = b.period;
    header.prepared_index = b.prepared_index;
    header.decided_index = b.decided_index;
    header.status = b.status;
    header.total_fen = b.total_fen;
    header.chunks = b.chunks;
    header.chunks_seen = b.chunks_seen;
    undo_->Push([&b, header = std::move(header), n = b.lines.size()]() mutable {
      for (size_t i = n; i < b.lines.size(); ++i) b.line_pos.erase(b.lines[i].line_no);
      b.lines.resize(n);
      header.lines = std::move(b.lines);
      header.line_pos = std::move(b.line_pos);
      b = std::move(header);
    });
  }
  void SaveLineStates(BatchState& b) {
    if (undo_ == nullptr) return;
    std::vector<LineState> old;
    old.reserve(b.lines.size());
    for (const BatchLine& l : b.lines) old.push_back(l.state);
    undo_->Push([&b, old = std::move(old)] {
      for (size_t i = 0; i < old.size() && i < b.lines.size(); ++i) b.lines[i].state = old[i];
    });
  }
  template <typename Set, typename Value>
  void Insert(Set& set, const Value& v) {
    if (set.insert(v).second && undo_ != nullptr) undo_->Push([&set, v] { set.erase(v); });
  }

  void Post(const std::string& account, int64_t posted, int64_t pending) {
    ChangeBalance(account, posted, pending);
    applied_.postings.push_back(Posting{account, posted, pending});
  }
  void ChangeBalance(const std::string& account, int64_t posted, int64_t pending) {
    Save(s_.balances, account);
    Balance& b = s_.balances[account];
    b.posted_fen += posted;
    b.pending_fen += pending;
  }
  void Move(const std::string& from, const std::string& to, int64_t amount) {
    Post(from, -amount, 0);
    Post(to, amount, 0);
  }
  void TouchBucket(const std::string& fund, const std::string& bucket) {
    auto it = s_.funds.find(fund);
    if (it != s_.funds.end() && !it->second.buckets.count(bucket)) {
      Save(s_.funds, fund);
      it->second.buckets.insert(bucket);
    }
  }
  void Reversible() {
    assert(!s_.reversible.Contains(m_.index));  // each entry is applied once
    s_.reversible.Add(m_.index, applied_.postings);
    if (undo_ != nullptr)
      undo_->Push([&reversible = s_.reversible, index = m_.index] { reversible.Remove(index); });
  }
  std::string RegionOf(const std::string& ben) const {
    auto b = s_.beneficiaries.find(ben);
    return b == s_.beneficiaries.end() ? "" : b->second.region;
  }
  void Payment(const std::string& fund, const BatchLine& l, int64_t amount, int32_t lines) {
    const std::string& ben = s_.names[l.beneficiary];
    applied_.payments.push_back(
        PaymentEffect{ben, s_.names[l.program], RegionOf(ben), fund, l.period, amount, lines});
  }
  void SetLineState(const std::string& batch_id, uint32_t line_no, LineState state) {
    BatchState& b = s_.batches[batch_id];
    BatchLine& l = b.lines[b.line_pos.at(line_no)];
    if (undo_ != nullptr) undo_->Push([&l, old = l.state] { l.state = old; });
    SlotKey slot{l.beneficiary, l.program, l.period};
    bool held = HoldsPaymentSlot(l.state), holds = HoldsPaymentSlot(state);
    l.state = state;
    if (held && !holds) {
      Save(s_.paid, slot);
      s_.paid.erase(slot);
    } else if (!held && holds) {
      Save(s_.paid, slot);
      s_.paid[slot] = PaymentSlot{s_.names.Intern(batch_id), line_no};
    }
  }

  void operator()(const fb::FundOpenedT& e) {
    Save(s_.funds, e.fund_id);
    FundState f;
    f.name = e.name;
    f.kind = e.kind;
    f.organisation = e.organisation;
    f.programs.insert(e.programs.begin(), e.programs.end());
    f.purposes.insert(e.purposes.begin(), e.purposes.end());
    f.bank_account_token = e.bank_account_token;
    s_.funds[e.fund_id] = std::move(f);
  }
  void operator()(const fb::FundClosedT& e) {
    Save(s_.funds, e.fund_id);
    s_.funds[e.fund_id].closed = true;
  }
  void operator()(const fb::ProgramDefinedT& e) {
    Save(s_.programs, e.program_id);
    ProgramState p;
    p.name = e.name;
    p.category = e.category;
    p.period = e.period;
    p.terms.push_back(StandardTerm{e.effective_month, e.standard_fen, e.cap_fen});
    p.excludes.insert(e.excludes.begin(), e.excludes.end());
    p.age_min_years = e.age_min_years;
    p.age_max_years = e.age_max_years;
    s_.programs[e.program_id] = std::move(p);
  }
  void operator()(const fb::ProgramStandardChangedT& e) {
    Save(s_.programs, e.program_id);
    std::vector<StandardTerm>& terms = s_.programs[e.program_id].terms;
    std::erase_if(terms,
                  [&](const StandardTerm& t) { return t.effective_month == e.effective_month; });
    terms.push_back(StandardTerm{e.effective_month, e.standard_fen, e.cap_fen});
    std::sort(terms.begin(), terms.end(), [](const StandardTerm& a, const StandardTerm& b) {
      return a.effective_month < b.effective_month;
    });
  }
  void operator()(const fb::BeneficiaryRegisteredT& e) {
    Save(s_.beneficiaries, e.beneficiary_id);
    BeneficiaryState b;
    b.household = e.household_id;
    b.region = e.region_code;
    if (e.id_commitment.size() == kHashBytes)
      std::copy(e.id_commitment.begin(), e.id_commitment.end(), b.id_commitment.begin());
    b.birth_month = e.birth_month;
    b.payee_role = e.payee_role;
    b.bank_account_token = e.bank_account_token;
    b.registered_date = e.registered_date;
    b.registered_index = m_.index;
    s_.beneficiaries[e.beneficiary_id] = std::move(b);
    std::string c = HexEncode(e.id_commitment);
    if (!s_.commitments.count(
            c)) {  // replay of an imported log may hold duplicates: keep the first
      Save(s_.commitments, c);
      s_.commitments[c] = e.beneficiary_id;
    }
  }
  void operator()(const fb::BeneficiaryChangedT& e) {
    Save(s_.beneficiaries, e.beneficiary_id);
    BeneficiaryState& b = s_.beneficiaries[e.beneficiary_id];
    b.statuses.push_back(StatusChange{e.effective_date, e.status, m_.index});
    std::stable_sort(b.statuses.begin(), b.statuses.end(),
                     [](const StatusChange& x, const StatusChange& y) {
                       return x.effective_date < y.effective_date;
                     });
    if (!e.region_code.empty()) b.region = e.region_code;
    if (!e.household_id.empty()) b.household = e.household_id;
    if (!e.bank_account_token.empty()) b.bank_account_token = e.bank_account_token;
  }
  template <typename T>
  void Enrollment(const T& e) {
    std::string key = EnrollmentKey(e.beneficiary_id, e.program_id);
    Save(s_.enrollments, key);
    std::vector<EnrollmentTerm>& terms = s_.enrollments[key];
    // New terms replace whatever was in force from from_month on.
    std::erase_if(terms, [&](const EnrollmentTerm& t) { return t.from_month >= e.from_month; });
    for (EnrollmentTerm& t : terms) {
      if (t.to_month == 0 || t.to_month >= e.from_month)
        t.to_month = MonthFromIndex(MonthIndex(e.from_month) - 1);
    }
    terms.push_back(EnrollmentTerm{e.from_month, e.to_month, e.monthly_amount_fen});
    Save(s_.programs_of, e.beneficiary_id);
    std::vector<std::string>& progs = s_.programs_of[e.beneficiary_id];
    if (std::find(progs.begin(), progs.end(), e.program_id) == progs.end())
      progs.push_back(e.program_id);
  }
  void operator()(const fb::EnrolledT& e) { Enrollment(e); }
  void operator()(const fb::EnrollmentChangedT& e) { Enrollment(e); }
  void operator()(const fb::AppropriatedT& e) {
    TouchBucket(e.fund_id, e.bucket);
    Move(ExternalAccount(e.source), FundAccount(e.fund_id, e.bucket), e.amount_fen);
    Reversible();
  }
  void operator()(const fb::DonationReceivedT& e) {
    TouchBucket(e.fund_id, e.bucket);
    Move(ExternalAccount("donors"), FundAccount(e.fund_id, e.bucket), e.amount_fen);
    Reversible();
  }
  void operator()(const fb::LotteryGrantAwardedT& e) {
    TouchBucket(e.to_fund_id, e.project_id);
    Move(FundAccount(e.from_fund_id, e.from_bucket), FundAccount(e.to_fund_id, e.project_id),
         e.amount_fen);
    Reversible();
  }
  void operator()(const fb::DisbursementBatchPreparedT& e) {
    // A first chunk over an existing batch (only in an imported log) replaces its lines.
    bool replaces = e.chunk == 0 && s_.batches.count(e.batch_id);
    if (replaces) {
      Save(s_.batches, e.batch_id);
    } else {
      SaveBatchHeader(e.batch_id);
    }
    BatchState& b = s_.batches[e.batch_id];
    if (e.chunk == 0) {
      b = BatchState{};
      b.maker = std::string(m_.actor);
      b.fund = e.fund_id;
      b.bucket = e.bucket;
      b.period = e.period;
      b.prepared_index = m_.index;
      b.chunks = e.chunks;
    }
    b.chunks_seen++;
    int64_t total = 0;
    // A chunk names each person and program once in its tables: intern those, not each line's.
    std::vector<NameId> people(e.beneficiary_ids.size()), programs(e.program_ids.size());
    for (size_t i = 0; i < people.size(); ++i) people[i] = s_.names.Intern(e.beneficiary_ids[i]);
    for (size_t i = 0; i < programs.size(); ++i) programs[i] = s_.names.Intern(e.program_ids[i]);
    const NameId batch = s_.names.Intern(e.batch_id);
    for (const fb::DisbursementLine& l : e.lines) {
      assert(l.beneficiary() < people.size() &&
             l.program() < programs.size());  // checked with the event's fields
      BatchLine line{l.line_no(), people[l.beneficiary()], programs[l.program()],
                     l.period(),  l.amount_fen(),          LineState::kPending};
      SlotKey slot{line.beneficiary, line.program, line.period};
      if (!s_.paid.contains(
              slot)) {  // an imported log may hold a duplicate: the first keeps the slot
        Save(s_.paid, slot);
        s_.paid[slot] = PaymentSlot{batch, line.line_no};
      }
      b.line_pos[line.line_no] = b.lines.size();
      b.lines.push_back(std::move(line));
      total += l.amount_fen();
    }
    b.total_fen += total;
    TouchBucket(e.fund_id, e.bucket);
    Post(FundAccount(e.fund_id, e.bucket), 0, total);
  }
  void operator()(const fb::DisbursementBatchApprovedT& e) {
    PlanApproval(e);
    CommitApproval();
  }
  // An approval in two halves, so that the observers can take its applied entry while the
  // state changes (Domain::Apply): what it does to the accounts, from the batch as it stands
  // (nothing changes), then the changes, which read nothing the first half wrote but it.
  void PlanApproval(const fb::DisbursementBatchApprovedT& e) {
    const BatchState& b = s_.batches.at(e.batch_id);
    applied_.postings.reserve(b.lines.size() + 1);
    applied_.payments.reserve(b.lines.size());
    applied_.postings.push_back(Posting{FundAccount(b.fund, b.bucket), -b.total_fen, -b.total_fen});
    for (const BatchLine& l : b.lines) {
      applied_.postings.push_back(
          Posting{BeneficiaryAccount(s_.names[l.beneficiary]), l.amount_fen, 0});
      Payment(b.fund, l, l.amount_fen, 1);
    }
    approving_ = &e.batch_id;
  }
  void CommitApproval() {
    assert(approving_ != nullptr);
    SaveBatchHeader(*approving_);
    BatchState& b = s_.batches[*approving_];
    SaveLineStates(b);
    b.status = BatchStatus::kApproved;
    b.decided_index = m_.index;
    for (const Posting& p : applied_.postings)
      ChangeBalance(p.account, p.posted_delta_fen, p.pending_delta_fen);
    for (BatchLine& l : b.lines) l.state = LineState::kPaid;
    approving_ = nullptr;
  }
  void operator()(const fb::DisbursementBatchRejectedT& e) {
    SaveBatchHeader(e.batch_id);
    BatchState& b = s_.batches[e.batch_id];
    SaveLineStates(b);
    b.status = BatchStatus::kRejected;
    b.decided_index = m_.index;
    Post(FundAccount(b.fund, b.bucket), 0, -b.total_fen);
    for (BatchLine& l : b.lines) {
      auto slot = s_.paid.find(SlotKey{l.beneficiary, l.program, l.period});
      if (slot != s_.paid.end() && s_.names[slot->second.batch] == e.batch_id &&
          slot->second.line_no == l.line_no) {
        Save(s_.paid, slot->first);
        s_.paid.erase(slot);
      }
      l.state = LineState::kRejected;
    }
  }
  void operator()(const fb::PaymentReturnedT& e) {
    SaveBatchHeader(e.batch_id);  // the line's state has its own undo step (SetLineState)
    BatchState& b = s_.batches[e.batch_id];
    const BatchLine& l = b.lines[b.line_pos.at(e.line_no)];
    Move(BeneficiaryAccount(s_.names[l.beneficiary]), FundAccount(b.fund, b.bucket), l.amount_fen);
    Payment(b.fund, l, -l.amount_fen, -1);
    SetLineState(e.batch_id, e.line_no, LineState::kReturned);
  }
  void operator()(const fb::PaymentReissuedT& e) {
    SaveBatchHeader(e.batch_id);  // the line's state has its own undo step (SetLineState)
    BatchState& b = s_.batches[e.batch_id];
    const BatchLine& l = b.lines[b.line_pos.at(e.line_no)];
    Move(FundAccount(b.fund, b.bucket), BeneficiaryAccount(s_.names[l.beneficiary]), l.amount_fen);
    Payment(b.fund, l, l.amount_fen, 1);
    SetLineState(e.batch_id, e.line_no, LineState::kReissued);
    Reversible();
  }
  void operator()(const fb::RecoveredT& e) {
    TouchBucket(e.fund_id, e.bucket);
    Move(BeneficiaryAccount(e.beneficiary_id), FundAccount(e.fund_id, e.bucket), e.amount_fen);
    if (!e.batch_id.empty()) {
      SaveBatchHeader(e.batch_id);
      BatchState& b = s_.batches[e.batch_id];
      auto pos = b.line_pos.find(e.line_no);
      if (pos != b.line_pos.end()) {
        const BatchLine& l = b.lines[pos->second];
        bool full = e.amount_fen >= l.amount_fen;
        Payment(b.fund, l, -e.amount_fen, full ? -1 : 0);
        if (full) SetLineState(e.batch_id, e.line_no, LineState::kRecovered);
      }
    }
    Reversible();
  }
  void operator()(const fb::ReversalT& e) {
    Insert(s_.reversed, e.entry_index);
    // An imported log may reverse anything; an entry that moved nothing has nothing to undo.
    for (const Posting& p : s_.reversible.Find(e.entry_index))
      Post(p.account, -p.posted_delta_fen, -p.pending_delta_fen);
  }
  void operator()(const fb::ExpensedT& e) {
    Move(FundAccount(e.fund_id, e.bucket),
         ExternalAccount(std::string("payees/") + fb::EnumNameExpenseClass(e.class_)),
         e.amount_fen);
    Reversible();
  }
  void operator()(const fb::TransferredBetweenFundsT& e) {
    TouchBucket(e.to_fund_id, e.to_bucket);
    Move(FundAccount(e.from_fund_id, e.from_bucket), FundAccount(e.to_fund_id, e.to_bucket),
         e.amount_fen);
    Reversible();
  }
  void operator()(const fb::RestrictionReleasedT& e) {
    TouchBucket(e.fund_id, e.to_bucket);
    Move(FundAccount(e.fund_id, e.bucket), FundAccount(e.fund_id, e.to_bucket), e.amount_fen);
    Reversible();
  }
  void operator()(const fb::ErasedT& e) {
    Insert(s_.erased_subjects, e.subject_id);
    auto b = s_.beneficiaries.find(e.subject_id);
    if (b != s_.beneficiaries.end()) {
      Save(s_.beneficiaries, e.subject_id);
      b->second.erased = true;
    }
  }
  void operator()(const fb::DisclosurePublishedT& e) {
    s_.disclosures.push_back(Disclosure{e.organisation, e.fund_id, e.period, e.schedule_item,
                                        m_.index, m_.timestamp_ms, e.corrects_index});
    if (undo_ != nullptr) undo_->Push([&disclosures = s_.disclosures] { disclosures.pop_back(); });
  }
  void operator()(const std::monostate&) {}

 private:
  DomainState& s_;
  UndoLog* undo_;
  const EntryMeta& m_;
  AppliedEntry& applied_;
  const std::string* approving_ = nullptr;  // the batch PlanApproval planned, until committed
};

// Collects one submission's projection rows and, once its rules passed, writes them to the
// WriteBatch in key order, the last value of a key only: a row that changes with every line
// (a fund's balance, a region's total) is written once, and the memtable takes ascending keys.
class BatchSink final : public KeyValueSink {
 public:
  BatchSink(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf) : batch_(batch), cf_(cf) {}
  void Put(std::string_view key, std::string_view value) override {
    rows_.push_back(
        Row{bytes_.size(), static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())});
    bytes_.append(key);
    bytes_.append(value);
  }
  void Flush() {
    // Stable: of the rows with one key, the last written stays last.
    std::stable_sort(rows_.begin(), rows_.end(),
                     [&](const Row& a, const Row& b) { return Key(a) < Key(b); });
    for (size_t i = 0; i < rows_.size(); ++i) {
      std::string_view key = Key(rows_[i]);
      if (i + 1 < rows_.size() && Key(rows_[i + 1]) == key) continue;
      batch_.Put(cf_, rocksdb::Slice(key.data(), key.size()),
                 rocksdb::Slice(bytes_.data() + rows_[i].at + key.size(), rows_[i].value_size));
    }
    rows_.clear();
    bytes_.clear();
  }

 private:
  // Keys and values lie back to back in one buffer: two allocations per submission, not per row.
  struct Row {
    size_t at;
    uint32_t key_size, value_size;
  };
  std::string_view Key(const Row& r) const {
    return std::string_view(bytes_.data() + r.at, r.key_size);
  }

  rocksdb::WriteBatch& batch_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::string bytes_;
  std::vector<Row> rows_;
};

}  // namespace

Status CheckRules(const DomainState& state, const DomainEvent& event, const EntryMeta& meta) {
  return std::visit(RuleChecker{state, meta}, event);
}

// Below this many lines a second checking thread costs more than it saves.
constexpr size_t kParallelCheckLinesMin = 4096;

// One payment slot named by views into a batch's chunks: the repeats within a batch are found
// without building a key string per line.
struct SlotRef {
  std::string_view beneficiary, program;
  int32_t period;
  bool operator==(const SlotRef&) const = default;
};
struct SlotRefHash {
  size_t operator()(const SlotRef& s) const {
    size_t h = std::hash<std::string_view>{}(s.beneficiary);
    boost::hash_combine(h, std::hash<std::string_view>{}(s.program));
    boost::hash_combine(h, s.period);
    return h;
  }
};

Status CheckBatchRules(const DomainState& s,
                       const std::vector<const fb::DisbursementBatchPreparedT*>& chunks) {
  assert(!chunks.empty());
  const fb::DisbursementBatchPreparedT& head = *chunks.front();
  if (s.batches.count(head.batch_id))
    return Rule("duplicate_id", "batch '" + head.batch_id + "' already exists", "batch_id");
  if (chunks.size() != head.chunks) {
    return Rule("incomplete_batch",
                "batch '" + head.batch_id + "' declares " + std::to_string(head.chunks) +
                    " chunks but the submission holds " + std::to_string(chunks.size()),
                "chunks");
  }
  size_t lines = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const fb::DisbursementBatchPreparedT& c = *chunks[i];
    if (c.batch_id != head.batch_id || c.fund_id != head.fund_id || c.bucket != head.bucket ||
        c.period != head.period || c.chunk != i || c.chunks != head.chunks) {
      return Rule("incomplete_batch",
                  "chunk " + std::to_string(i) + " of batch '" + head.batch_id +
                      "' does not match the first chunk",
                  "chunk");
    }
    lines += c.lines.size();
  }
  if (lines > kBatchLinesMax) {
    return Status(StatusCode::kTooLarge,
                  "a batch holds at most 1,000,000 lines, got " + std::to_string(lines));
  }
  const FundState* fund = nullptr;
  FL_RETURN_IF_ERROR(OpenFund(s, head.fund_id, "fund_id", &fund));

  // First, in line order, what only the batch itself can break: repeated line numbers and
  // one person paid twice for a program and month.
  struct Line {
    const fb::DisbursementBatchPreparedT* chunk;
    const fb::DisbursementLine* line;
    Status status;
  };
  std::vector<Line> all;
  all.reserve(lines);
  // Flat sets, reserved: a node and a key string per line cost ~10% of a 1M-line roll.
  boost::unordered_flat_set<SlotRef, SlotRefHash> slots;
  boost::unordered_flat_set<uint32_t> line_numbers;
  slots.reserve(lines);
  line_numbers.reserve(lines);
  for (const fb::DisbursementBatchPreparedT* c : chunks) {
    for (const fb::DisbursementLine& l : c->lines) {
      const std::string& ben = c->beneficiary_ids[l.beneficiary()];
      const std::string& prog = c->program_ids[l.program()];
      Status st;
      if (!line_numbers.insert(l.line_no()).second) {
        st = Rule("duplicate_line_no",
                  "line number " + std::to_string(l.line_no()) + " appears twice", "line_no");
      } else if (!slots.insert(SlotRef{ben, prog, l.period()}).second) {
        st = Rule("duplicate_payment",
                  "beneficiary '" + ben + "' appears twice for '" + prog + "' in " +
                      FormatMonth(l.period()) + " in this batch",
                  "beneficiary_id");
      }
      all.push_back(Line{c, &l, std::move(st)});
    }
  }
  // Then each line against the ledger's state, which nothing changes meanwhile (the writer holds
  // the domain's lock): a large roll is checked in two halves on two threads.
  auto check = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      Line& x = all[i];
      if (!x.status.ok()) continue;
      x.status = CheckLine(
          s, *fund, head.fund_id, head.bucket, x.chunk->beneficiary_ids[x.line->beneficiary()],
          x.chunk->program_ids[x.line->program()], x.line->period(), x.line->amount_fen());
    }
  };
  if (all.size() >= kParallelCheckLinesMin) {
    std::thread second(check, all.size() / 2, all.size());
    check(0, all.size() / 2);
    second.join();
  } else {
    check(0, all.size());
  }
  std::vector<Status> rejected;
  int64_t total = 0;
  for (Line& x : all) {
    if (!x.status.ok()) {
      x.status.WithLine(x.line->line_no());
      rejected.push_back(std::move(x.status));
    } else if (__builtin_add_overflow(total, x.line->amount_fen(), &total)) {
      return Rule("amount_overflow", "the batch total overflows", "amount_fen");
    }
  }
  if (!rejected.empty()) {
    Status first = rejected.front();
    return Rule("lines_rejected",
                "batch '" + head.batch_id + "': " + std::to_string(rejected.size()) + " of " +
                    std::to_string(lines) +
                    " lines break ledger rules; nothing was posted. First: line " +
                    std::to_string(first.line()) + ": " + first.message())
        .WithLine(first.line())
        .WithDetails(std::move(rejected));
  }
  return Available(s, head.fund_id, head.bucket, total, "lines");
}

// Applied entries handed from the replaying thread to one that feeds the observers, in
// order, a batch at a time; bounded, so a slow observer holds the replay back.
struct Domain::ObserverPipe {
  static constexpr size_t kBatchEntries = 1024;
  static constexpr size_t kBatchesAhead = 8;
  using Batch = std::vector<std::pair<AppliedEntry, ApplyContext>>;

  explicit ObserverPipe(const std::vector<EntryObserver*>& observers)
      : worker([this, &observers] {
          while (std::optional<Batch> batch = queue.Pop()) {
            for (auto& [entry, context] : *batch) {
              for (EntryObserver* o : observers) o->OnApplied(entry, context);
            }
          }
        }) {}
  void Push(AppliedEntry entry, const ApplyContext& context) {
    filling.emplace_back(std::move(entry), context);
    if (filling.size() >= kBatchEntries) Send();
  }
  void Send() {
    if (filling.empty()) return;
    bool taken = queue.Push(std::move(filling));
    assert(taken);  // the worker takes every batch until Finish
    (void)taken;
    filling = Batch();
  }
  // Hands over what is left and waits until the observers have taken every entry.
  void Finish() {
    Send();
    queue.Finish();
    worker.join();
  }

  Batch filling;  // the replaying thread's, until sent
  AheadQueue<Batch> queue{kBatchesAhead};
  std::thread worker;  // last: starts once the rest is constructed
};

Domain::Domain(std::vector<EntryObserver*> observers, rocksdb::ColumnFamilyHandle* projections)
    : observers_(std::move(observers)), projections_cf_(projections) {}

Domain::~Domain() {
  if (pipe_) pipe_->Finish();
}

// From this many lines on, an approval's observers run beside its state changes.
constexpr size_t kParallelApplyLinesMin = 4096;

void Domain::Apply(const DomainEvent& event, const EntryMeta& meta, ApplyContext& context) {
  AppliedEntry applied;
  applied.index = meta.index;
  applied.timestamp_ms = meta.timestamp_ms;
  applied.type = EventTypeOf(event);
  Applier applier(state_, context.undo, meta, applied);
  const auto* approval = std::get_if<fb::DisbursementBatchApprovedT>(&event);
  if (approval != nullptr && !pipe_ && !observers_.empty()) {
    applier.PlanApproval(*approval);
    if (applied.payments.size() >= kParallelApplyLinesMin) {
      // The observers touch only their own state and the sink, the domain only its state: the
      // observers' undo steps are kept apart and follow the domain's, as they would in turn.
      UndoLog observer_undo;
      ApplyContext observer_context{context.sink,
                                    context.undo != nullptr ? &observer_undo : nullptr};
      std::thread beside([&] {
        for (EntryObserver* o : observers_) o->OnApplied(applied, observer_context);
      });
      applier.CommitApproval();
      beside.join();
      if (context.undo != nullptr)
        context.undo->Push([this, old = state_.next_index] { state_.next_index = old; });
      state_.next_index = meta.index + 1;
      if (context.undo != nullptr) context.undo->Append(std::move(observer_undo));
      return;
    }
    applier.CommitApproval();
  } else {
    std::visit(applier, event);
  }
  if (context.undo != nullptr)
    context.undo->Push([this, old = state_.next_index] { state_.next_index = old; });
  state_.next_index = meta.index + 1;
  if (pipe_) {
    pipe_->Push(std::move(applied), context);
    return;
  }
  for (EntryObserver* o : observers_) o->OnApplied(applied, context);
}

Status Domain::ApplyCommitted(uint64_t index, ByteView bytes, ApplyContext& context) {
  FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
  EntryMeta meta{index, e.timestamp_ms, e.actor, e.role};
  DomainEvent event;  // none: observers still see the entry (its index and time)
  if (IsDomainEvent(e.event_type)) {
    Result<DomainEvent> decoded = DecodeEvent(e.event_type, e.payload);
    if (!decoded.ok())
      return Corruption("entry " + std::to_string(index) + ": " + decoded.status().message());
    event = std::move(decoded).value();
  }
  // A replay holds the gate from BeginReplay on: a lock per entry cost ~2% of a rebuild's CPU.
  if (replaying_) {
    Apply(event, meta, context);
  } else {
    WriterLock lock(gate_);
    Apply(event, meta, context);
  }
  return Status::Ok();
}

Status Domain::Replay(const LogSource& source, uint64_t begin) {
  ApplyContext context;
  BeginReplay();
  Status s = ScanEntriesAhead(
      source, begin, source.size(),
      [&](uint64_t i, ByteView bytes, const Hash&) { return ApplyCommitted(i, bytes, context); });
  EndReplay(context);
  return s;
}

void Domain::BeginReplay() FL_NO_THREAD_SAFETY_ANALYSIS {
  gate_.Lock();  // until EndReplay: readers never see a replay half done
  assert(!pipe_ && !replaying_ && !group_open_);
  replaying_ = true;
  for (EntryObserver* o : observers_) o->OnReplayBegin();
  if (!observers_.empty()) pipe_ = std::make_unique<ObserverPipe>(observers_);
}

void Domain::EndReplay(ApplyContext& context) FL_NO_THREAD_SAFETY_ANALYSIS {
  assert(replaying_);
  replaying_ = false;
  if (pipe_) {
    pipe_->Finish();
    pipe_.reset();
  }
  for (EntryObserver* o : observers_) o->OnReplayEnd(context);
  gate_.Unlock();
}

Status Domain::Stage(const Submission& submission, uint64_t first_index, int64_t timestamp_ms,
                     rocksdb::WriteBatch& batch) {
  const auto* decoded = std::any_cast<std::vector<DomainEvent>>(&submission.decoded);
  if (decoded != nullptr && decoded->size() == submission.entries.size())
    return StageEvents(submission, *decoded, first_index, timestamp_ms, batch);
  std::vector<DomainEvent> events;
  events.reserve(submission.entries.size());
  for (size_t k = 0; k < submission.entries.size(); ++k) {
    const NewEntry& e = submission.entries[k];
    if (!IsDomainEvent(e.event_type)) {
      events.emplace_back(std::monostate{});
      continue;
    }
    Result<DomainEvent> ev = DecodeEvent(e.event_type, e.payload);
    if (!ev.ok()) return Status(ev.status()).WithLine(k + 1);
    Status fields = CheckEventFields(*ev);
    if (!fields.ok()) return fields.line() == 0 ? fields.WithLine(k + 1) : fields;
    events.push_back(std::move(ev).value());
  }
  return StageEvents(submission, events, first_index, timestamp_ms, batch);
}

Status Domain::StageEvents(const Submission& submission, const std::vector<DomainEvent>& events,
                           uint64_t first_index, int64_t timestamp_ms, rocksdb::WriteBatch& batch) {
  assert(events.size() == submission.entries.size());
  OpenGroup();
  BatchSink sink(batch, projections_cf_);
  ApplyContext context{projections_cf_ != nullptr ? &sink : nullptr, &undo_};
  size_t mark = undo_.Mark();
  for (size_t k = 0; k < events.size();) {
    const NewEntry& ne = submission.entries[k];
    EntryMeta meta{first_index + k, timestamp_ms, ne.actor, ne.role};
    // The chunks of one batch are checked together, then applied one entry each.
    size_t span = 1;
    Status st;
    if (auto* prepared = std::get_if<fb::DisbursementBatchPreparedT>(&events[k])) {
      std::vector<const fb::DisbursementBatchPreparedT*> chunks{prepared};
      while (chunks.size() < prepared->chunks && k + chunks.size() < events.size()) {
        auto* next = std::get_if<fb::DisbursementBatchPreparedT>(&events[k + chunks.size()]);
        if (next == nullptr) break;
        chunks.push_back(next);
      }
      span = chunks.size();
      st = CheckBatchRules(state_, chunks);
    } else if (!std::holds_alternative<std::monostate>(events[k])) {
      st = CheckRules(state_, events[k], meta);
    }
    if (!st.ok()) {
      undo_.RollbackTo(mark);
      if (submission.entries.size() > 1 && st.line() == 0) st.WithLine(k + 1);
      return st;
    }
    for (size_t j = 0; j < span; ++j) {
      const NewEntry& e = submission.entries[k + j];
      EntryMeta m{first_index + k + j, timestamp_ms, e.actor, e.role};
      Apply(events[k + j], m, context);
    }
    k += span;
  }
  sink.Flush();
  return Status::Ok();
}

namespace {

template <typename Set>
void SaveStrings(BinaryWriter& w, const Set& set) {
  w.U64(set.size());
  for (const std::string& v : set) w.Str(v);
}
template <typename Set>
void LoadStrings(BinaryReader& r, Set& set) {
  for (uint64_t n = r.Count(8); n > 0 && r.ok(); --n) set.insert(set.end(), r.Str());
}
void SavePostings(BinaryWriter& w, const std::vector<Posting>& postings) {
  w.U64(postings.size());
  for (const Posting& p : postings) {
    w.Str(p.account);
    w.I64(p.posted_delta_fen);
    w.I64(p.pending_delta_fen);
  }
}
std::vector<Posting> LoadPostings(BinaryReader& r) {
  std::vector<Posting> out;
  for (uint64_t n = r.Count(24); n > 0 && r.ok(); --n) {
    Posting p;
    p.account = r.Str();
    p.posted_delta_fen = r.I64();
    p.pending_delta_fen = r.I64();
    out.push_back(std::move(p));
  }
  return out;
}

// A hash map's entries in key order, by pointer: snapshot bytes must not depend on hashing.
template <typename Map>
std::map<std::string_view, const typename Map::mapped_type*> Sorted(const Map& map) {
  std::map<std::string_view, const typename Map::mapped_type*> out;
  for (const auto& [k, v] : map) out.emplace(k, &v);
  return out;
}

}  // namespace

std::string Domain::SaveState() const {
  ReaderLock lock(gate_);
  const DomainState& s = state_;
  BinaryWriter w;
  w.U64(s.next_index);
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
  }
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
    }
    SaveStrings(w, p.excludes);
    w.I32(p.age_min_years);
    w.I32(p.age_max_years);
  }
  w.U64(s.beneficiaries.size());
  for (const auto& [id, b] : s.beneficiaries) {
    w.Str(id);
    w.Str(b.household);
    w.Str(b.region);
    w.Bytes(b.id_commitment);
    w.I32(b.birth_month);
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
  w.U64(s.enrollments.size());
  for (const auto& [key, terms_ptr] : Sorted(s.enrollments)) {
    const std::vector<EnrollmentTerm>& terms = *terms_ptr;
    w.Str(key);
    w.U64(terms.size());
    for (const EnrollmentTerm& t : terms) {
      w.I32(t.from_month);
      w.I32(t.to_month);
      w.I64(t.monthly_amount_fen);
    }
  }
  w.U64(s.programs_of.size());
  for (const auto& [ben, progs] : Sorted(s.programs_of)) {
    w.Str(ben);
    SaveStrings(w, *progs);
  }
  std::map<std::string, Balance> balances(s.balances.begin(),
                                          s.balances.end());  // sorted: deterministic bytes
  w.U64(balances.size());
  for (const auto& [account, b] : balances) {
    w.Str(account);
    w.I64(b.posted_fen);
    w.I64(b.pending_fen);
  }
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
  std::map<std::string, PaymentSlot> paid;  // by the slot as text: the order does not depend on ids
  for (const auto& [slot, p] : s.paid)
    paid.emplace(PaymentSlotKey(s.names[slot.beneficiary], s.names[slot.program], slot.period), p);
  w.U64(paid.size());
  for (const auto& [slot, p] : paid) {
    w.Str(slot);
    w.Str(s.names[p.batch]);
    w.U64(p.line_no);
  }
  std::map<std::string, std::string> commitments(s.commitments.begin(), s.commitments.end());
  w.U64(commitments.size());
  for (const auto& [c, ben] : commitments) {
    w.Str(c);
    w.Str(ben);
  }
  w.U64(s.reversible.size());
  for (uint64_t index : s.reversible.SortedIndices()) {
    w.U64(index);
    SavePostings(w, s.reversible.Find(index));
  }
  w.U64(s.reversed.size());
  for (uint64_t i : s.reversed) w.U64(i);
  SaveStrings(w, s.erased_subjects);
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
  return std::move(w.data());
}

Status Domain::LoadState(std::string_view bytes) {
  BinaryReader r(bytes);
  DomainState s;
  s.next_index = r.U64();
  for (uint64_t n = r.Count(8); n > 0 && r.ok(); --n) {
    std::string id = r.Str();
    FundState& f = s.funds[id];
    f.name = r.Str();
    f.kind = static_cast<fb::FundKind>(r.U8());
    f.organisation = r.Str();
    LoadStrings(r, f.programs);
    LoadStrings(r, f.purposes);
    f.bank_account_token = r.Str();
    LoadStrings(r, f.buckets);
    f.closed = r.U8() != 0;
  }
  for (uint64_t n = r.Count(8); n > 0 && r.ok(); --n) {
    std::string id = r.Str();
    ProgramState& p = s.programs[id];
    p.name = r.Str();
    p.category = static_cast<fb::ProgramCategory>(r.U8());
    p.period = static_cast<fb::PaymentPeriod>(r.U8());
    for (uint64_t t = r.Count(24); t > 0 && r.ok(); --t) {
      StandardTerm term;
      term.effective_month = r.I32();
      term.standard_fen = r.I64();
      term.cap_fen = r.I64();
      p.terms.push_back(term);
    }
    LoadStrings(r, p.excludes);
    p.age_min_years = r.I32();
    p.age_max_years = r.I32();
  }
  for (uint64_t n = r.Count(8); n > 0 && r.ok(); --n) {
    std::string id = r.Str();
    BeneficiaryState& b = s.beneficiaries[id];
    b.household = r.Str();
    b.region = r.Str();
    std::string c = r.Str();
    if (c.size() == kHashBytes) std::copy(c.begin(), c.end(), b.id_commitment.begin());
    b.birth_month = r.I32();
    b.payee_role = static_cast<fb::PayeeRole>(r.U8());
    std::string token = r.Str();
    b.bank_account_token.assign(token.begin(), token.end());
    b.registered_date = r.I32();
    for (uint64_t t = r.Count(17); t > 0 && r.ok(); --t) {
      StatusChange sc;
      sc.effective_date = r.I32();
      sc.status = static_cast<fb::BeneficiaryStatus>(r.U8());
      sc.index = r.U64();
      b.statuses.push_back(sc);
    }
    b.erased = r.U8() != 0;
    b.registered_index = r.U64();
  }
  for (uint64_t n = r.Count(8); n > 0 && r.ok(); --n) {
    std::vector<EnrollmentTerm>& terms = s.enrollments[r.Str()];
    for (uint64_t t = r.Count(24); t > 0 && r.ok(); --t) {
      EnrollmentTerm term;
      term.from_month = r.I32();
      term.to_month = r.I32();
      term.monthly_amount_fen = r.I64();
      terms.push_back(term);
    }
  }
  for (uint64_t n = r.Count(8); n > 0 && r.ok(); --n) {
    std::vector<std::string>& progs = s.programs_of[r.Str()];
    LoadStrings(r, progs);
  }
  for (uint64_t n = r.Count(24); n > 0 && r.ok(); --n) {
    Balance& b = s.balances[r.Str()];
    b.posted_fen = r.I64();
    b.pending_fen = r.I64();
  }
  for (uint64_t n = r.Count(8); n > 0 && r.ok(); --n) {
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
    for (uint64_t l = r.Count(40); l > 0 && r.ok(); --l) {
      BatchLine line;
      line.line_no = static_cast<uint32_t>(r.U64());
      line.beneficiary = s.names.Intern(r.Str());
      line.program = s.names.Intern(r.Str());
      line.period = r.I32();
      line.amount_fen = r.I64();
      line.state = static_cast<LineState>(r.U8());
      b.line_pos[line.line_no] = b.lines.size();
      b.lines.push_back(std::move(line));
    }
  }
  for (uint64_t n = r.Count(24); n > 0 && r.ok(); --n) {
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
    s.paid[slot] = PaymentSlot{s.names.Intern(batch), line_no};
  }
  for (uint64_t n = r.Count(16); n > 0 && r.ok(); --n) {
    std::string c = r.Str();
    s.commitments[c] = r.Str();
  }
  for (uint64_t n = r.Count(16); n > 0 && r.ok(); --n) {
    uint64_t index = r.U64();
    std::vector<Posting> postings = LoadPostings(r);
    if (r.ok() && !s.reversible.Contains(index)) s.reversible.Add(index, postings);
  }
  for (uint64_t n = r.Count(8); n > 0 && r.ok(); --n) s.reversed.insert(r.U64());
  LoadStrings(r, s.erased_subjects);
  for (uint64_t n = r.Count(56); n > 0 && r.ok(); --n) {
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
  if (!r.ok() || !r.done())
    return Corruption("the domain state in the snapshot is truncated or malformed");
  WriterLock lock(gate_);
  state_ = std::move(s);
  undo_.Clear();
  return Status::Ok();
}

void Domain::OpenGroup() FL_NO_THREAD_SAFETY_ANALYSIS {
  if (group_open_) return;
  gate_.Lock();
  group_open_ = true;
}

void Domain::CloseGroup() FL_NO_THREAD_SAFETY_ANALYSIS {
  if (!group_open_) return;  // a group of replayed or refused submissions only: nothing staged
  group_open_ = false;
  gate_.Unlock();
}

// The log calls Commit once the group's WriteBatch is durable, Abort when it failed: only then
// may readers see the group's effects, or their absence.
void Domain::Commit() {
  assert(!replaying_);
  undo_.Clear();
  CloseGroup();
}

void Domain::Abort() {
  assert(!replaying_);
  undo_.RollbackTo(0);
  CloseGroup();
}

}  // namespace fundledger
