#include "ledger/domain_apply.h"

#include <algorithm>
#include <cassert>

namespace fundledger {
namespace {

std::string RegionOf(const DomainState& s, const std::string& ben) {
  auto b = s.beneficiaries.find(ben);
  return b == s.beneficiaries.end() ? "" : b->second.region;
}

PaymentEffect PaymentOf(const DomainState& s, const std::string& fund, const BatchLine& l,
                        int64_t amount, int32_t lines) {
  const std::string& ben = s.names[l.beneficiary];
  return PaymentEffect{ben, s.names[l.program], RegionOf(s, ben), fund, l.period, amount, lines};
}

class Applier {
 public:
  // `applied` may be null only for ApplyPlannedApproval, which records no postings of its own.
  Applier(DomainState& s, UndoLog* undo, const EntryMeta& m, AppliedEntry* applied)
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
    applied_->postings.push_back(Posting{account, posted, pending});
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
    s_.reversible.Add(m_.index, applied_->postings);
    if (undo_ != nullptr)
      undo_->Push([&reversible = s_.reversible, index = m_.index] { reversible.Remove(index); });
  }
  void Payment(const std::string& fund, const BatchLine& l, int64_t amount, int32_t lines) {
    applied_->payments.push_back(PaymentOf(s_, fund, l, amount, lines));
  }
  void SetLineState(const std::string& batch_id, uint32_t line_no, LineState state) {
    BatchState& b = s_.batches[batch_id];
    BatchLine& l = b.lines[b.line_pos.at(line_no)];
    if (undo_ != nullptr) undo_->Push([&l, old = l.state] { l.state = old; });
    s_.slots.OnLineState(l.slot(), SlotHolder{s_.names.Intern(batch_id), line_no}, l.state, state,
                         undo_);
    l.state = state;
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
      s_.slots.TakeForPreparedLine(line.slot(), SlotHolder{batch, line.line_no}, undo_);
      b.line_pos[line.line_no] = b.lines.size();
      b.lines.push_back(std::move(line));
      total += l.amount_fen();
    }
    b.total_fen += total;
    TouchBucket(e.fund_id, e.bucket);
    Post(FundAccount(e.fund_id, e.bucket), 0, total);
  }
  void operator()(const fb::DisbursementBatchApprovedT& e) {
    PlanApproval(s_, e, *applied_);
    CommitApproval(e, applied_->postings);
  }
  // The state changes of an approval whose postings were planned (PlanApproval).
  void CommitApproval(const fb::DisbursementBatchApprovedT& e,
                      const std::vector<Posting>& planned) {
    SaveBatchHeader(e.batch_id);
    BatchState& b = s_.batches[e.batch_id];
    SaveLineStates(b);
    b.status = BatchStatus::kApproved;
    b.decided_index = m_.index;
    for (const Posting& p : planned)
      ChangeBalance(p.account, p.posted_delta_fen, p.pending_delta_fen);
    for (BatchLine& l : b.lines) l.state = LineState::kPaid;
  }
  void operator()(const fb::DisbursementBatchRejectedT& e) {
    SaveBatchHeader(e.batch_id);
    BatchState& b = s_.batches[e.batch_id];
    SaveLineStates(b);
    b.status = BatchStatus::kRejected;
    b.decided_index = m_.index;
    Post(FundAccount(b.fund, b.bucket), 0, -b.total_fen);
    std::optional<NameId> batch = s_.names.Find(e.batch_id);  // none: no line of it holds a slot
    for (BatchLine& l : b.lines) {
      if (batch) s_.slots.ReleaseForRejectedLine(l.slot(), SlotHolder{*batch, l.line_no}, undo_);
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
  AppliedEntry* applied_;
};

}  // namespace

void ApplyEvent(DomainState& state, const DomainEvent& event, const EntryMeta& meta, UndoLog* undo,
                AppliedEntry& applied) {
  std::visit(Applier(state, undo, meta, &applied), event);
}

void PlanApproval(const DomainState& s, const fb::DisbursementBatchApprovedT& approval,
                  AppliedEntry& applied) {
  const BatchState& b = s.batches.at(approval.batch_id);
  applied.postings.reserve(b.lines.size() + 1);
  applied.payments.reserve(b.lines.size());
  applied.postings.push_back(Posting{FundAccount(b.fund, b.bucket), -b.total_fen, -b.total_fen});
  for (const BatchLine& l : b.lines) {
    applied.postings.push_back(
        Posting{BeneficiaryAccount(s.names[l.beneficiary]), l.amount_fen, 0});
    applied.payments.push_back(PaymentOf(s, b.fund, l, l.amount_fen, 1));
  }
}

void ApplyPlannedApproval(DomainState& state, const fb::DisbursementBatchApprovedT& approval,
                          const EntryMeta& meta, UndoLog* undo, const AppliedEntry& applied) {
  Applier(state, undo, meta, nullptr).CommitApproval(approval, applied.postings);
}

}  // namespace fundledger
